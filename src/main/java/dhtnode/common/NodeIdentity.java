package dhtnode.common;

import static dhtnode.common.ConfigValues.bad;
import static dhtnode.common.ConfigValues.get;
import static dhtnode.common.ConfigValues.intIn;
import static dhtnode.common.ConfigValues.string;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Who this node is and where it listens, from {@code dht.node { }} and {@code dht.cluster { }}: its
 * name, the address it binds (HTTP, SWIM over UDP and Artery over TCP) and the one it advertises to
 * its peers (in SWIM messages, the ring and its remoting address), its HTTP port, its cluster port
 * (SWIM and Artery share the number), the seeds it joins through and the name of its cluster. Every
 * layer that names this node or its peers reads it from here.
 */
public record NodeIdentity(
    String name,
    String bindHost,
    String advertiseHost,
    int httpPort,
    int clusterPort,
    List<HostPort> seeds,
    String clusterName) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  /** Addresses that mean "every interface" to bind, and nothing a peer can send to. */
  private static final Set<String> WILDCARDS =
      Set.of("0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0", "*");

  public NodeIdentity {
    seeds = List.copyOf(seeds);
  }

  /**
   * Reads and validates {@code dht.node.*} and {@code dht.cluster.name}; throws {@link
   * SettingsException} naming the first bad key.
   */
  public static NodeIdentity from(Config c) {
    String name = named(c, "dht.node.name");
    String bindHost = host(c, "dht.node.bind-host");
    String advertiseHost = host(c, "dht.node.advertise-host");
    if (WILDCARDS.contains(advertiseHost)) {
      throw bad(
          "dht.node.advertise-host",
          "is "
              + advertiseHost
              + (advertiseHost.equals(bindHost) ? " (it defaults to dht.node.bind-host)" : "")
              + ", which peers cannot send to: set dht.node.advertise-host (or DHT_ADVERTISE_HOST)"
              + " to the address the other nodes reach this machine at");
    }
    int httpPort = intIn(c, "dht.node.http-port", 1, 65535);
    int clusterPort = intIn(c, "dht.node.cluster-port", 1, 65535);
    if (httpPort == clusterPort) {
      throw bad(
          "dht.node.http-port", "must differ from dht.node.cluster-port (" + clusterPort + ")");
    }
    List<HostPort> seeds = new ArrayList<>();
    for (String s : seedList(c)) {
      try {
        seeds.add(HostPort.parse(s));
      } catch (IllegalArgumentException e) {
        throw bad("dht.node.seeds", e.getMessage());
      }
    }
    String clusterName = named(c, "dht.cluster.name");
    return new NodeIdentity(
        name, bindHost, advertiseHost, httpPort, clusterPort, seeds, clusterName);
  }

  /** True when {@code host} binds every interface (0.0.0.0, ::). */
  public static boolean isWildcard(String host) {
    return WILDCARDS.contains(host);
  }

  private static String named(Config c, String key) {
    String name = string(c, key);
    if (!NAME.matcher(name).matches()) {
      throw bad(
          key,
          "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, was \""
              + name
              + "\"");
    }
    return name;
  }

  private static String host(Config c, String key) {
    String host = string(c, key).trim();
    if (host.isEmpty()) {
      throw bad(key, "must not be empty");
    }
    return host;
  }

  /** A list of strings, or one comma-separated string (as DHT_SEEDS sets it). */
  private static List<String> seedList(Config c) {
    String key = "dht.node.seeds";
    ConfigValueType type = get(key, () -> c.getValue(key).valueType());
    if (type == ConfigValueType.STRING) {
      List<String> seeds = new ArrayList<>();
      for (String s : c.getString(key).split(",")) {
        if (!s.isBlank()) {
          seeds.add(s.trim());
        }
      }
      return seeds;
    }
    return get(key, () -> c.getStringList(key));
  }
}

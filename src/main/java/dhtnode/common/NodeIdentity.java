package dhtnode.common;

import static dhtnode.common.ConfigValues.bad;
import static dhtnode.common.ConfigValues.get;
import static dhtnode.common.ConfigValues.intIn;
import static dhtnode.common.ConfigValues.string;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Who this node is and where it listens, from {@code dht.node { }}: its name, host, HTTP port,
 * cluster port (SWIM over UDP and Artery over TCP share the number) and the seeds it joins through.
 * Every layer that names this node or its peers reads it from here.
 */
public record NodeIdentity(
    String name, String host, int httpPort, int clusterPort, List<HostPort> seeds) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  public NodeIdentity {
    seeds = List.copyOf(seeds);
  }

  /**
   * Reads and validates {@code dht.node.*}; throws {@link SettingsException} naming the first bad
   * key.
   */
  public static NodeIdentity from(Config c) {
    String name = string(c, "dht.node.name");
    if (!NAME.matcher(name).matches()) {
      throw bad(
          "dht.node.name",
          "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit, was \""
              + name
              + "\"");
    }
    String host = string(c, "dht.node.host");
    if (host.isBlank()) {
      throw bad("dht.node.host", "must not be empty");
    }
    int httpPort = intIn(c, "dht.node.http-port", 1, 65535);
    int clusterPort = intIn(c, "dht.node.cluster-port", 1, 65535);
    if (httpPort == clusterPort) {
      throw bad(
          "dht.node.http-port", "must differ from dht.node.cluster-port (" + clusterPort + ")");
    }
    List<HostPort> seeds = new ArrayList<>();
    for (String s : get("dht.node.seeds", () -> c.getStringList("dht.node.seeds"))) {
      try {
        seeds.add(HostPort.parse(s));
      } catch (IllegalArgumentException e) {
        throw bad("dht.node.seeds", e.getMessage());
      }
    }
    return new NodeIdentity(name, host, httpPort, clusterPort, seeds);
  }
}

package dhtnode.node;

import com.typesafe.config.Config;
import dhtnode.common.NodeIdentity;
import dhtnode.common.SettingsException;

/**
 * The Akka settings a node cannot work without, checked before its actor system starts: remoting (a
 * local actor provider would start a node whose requests to its peers all time out) at the address
 * of {@code dht.node}, as application.conf sets it up. A config file passed with {@code
 * -Dconfig.file} replaces application.conf, so one that drops its {@code include} line loses them;
 * the node then refuses to start with one line saying what to add.
 */
final class AkkaRequirements {
  private AkkaRequirements() {}

  static final String INCLUDE = "include required(classpath(\"application\"))";

  private static final String FIX =
      ": the node's Akka settings are missing; start its config file with " + INCLUDE;

  /** Throws {@link SettingsException} naming the first Akka setting that is not as needed. */
  static void check(Config c, NodeIdentity node) {
    String provider = value(c, "akka.actor.provider");
    if (!provider.equals("remote") && !provider.equals("akka.remote.RemoteActorRefProvider")) {
      throw new SettingsException(
          "akka.actor.provider is \"" + provider + "\", not \"remote\"" + FIX);
    }
    expect(c, "akka.remote.artery.canonical.hostname", node.advertiseHost(), "advertise-host");
    expect(
        c,
        "akka.remote.artery.canonical.port",
        Integer.toString(node.clusterPort()),
        "cluster-port");
    String bind = value(c, "akka.remote.artery.bind.hostname");
    // "" binds the canonical address, which is right when the node binds what it advertises
    if (!(bind.isEmpty() && node.bindHost().equals(node.advertiseHost()))) {
      expect(c, "akka.remote.artery.bind.hostname", node.bindHost(), "bind-host");
    }
  }

  private static void expect(Config c, String key, String wanted, String nodeKey) {
    String actual = value(c, key);
    if (!actual.equals(wanted)) {
      throw new SettingsException(
          key
              + " is \""
              + actual
              + "\", not dht.node."
              + nodeKey
              + " (\""
              + wanted
              + "\")"
              + FIX
              + " and set only dht.node keys");
    }
  }

  private static String value(Config c, String key) {
    return c.hasPath(key) ? c.getValue(key).unwrapped().toString() : "";
  }
}

package dhtnode.node;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dhtnode.common.NodeIdentity;
import dhtnode.common.SettingsException;
import org.junit.jupiter.api.Test;

/** A node refuses to start without the Akka settings of application.conf, in one line. */
class AkkaRequirementsTest {

  static Config load(String confFile) {
    return ConfigFactory.parseString(confFile)
        .withFallback(ConfigFactory.defaultReferenceUnresolved())
        .resolve();
  }

  static void check(Config c) {
    AkkaRequirements.check(c, NodeIdentity.from(c));
  }

  static final String NODE = "dht.node { name = n1, http-port = 8100, cluster-port = 7100 }\n";

  @Test
  void aConfigFileWithTheIncludeHasWhatTheNodeNeeds() {
    assertDoesNotThrow(
        () ->
            check(
                ConfigFactory.parseString(NODE)
                    .withFallback(ConfigFactory.parseResources("application.conf"))
                    .withFallback(ConfigFactory.defaultReferenceUnresolved())
                    .resolve()));
    assertDoesNotThrow(
        () ->
            check(
                ConfigFactory.parseString(
                        NODE
                            + "dht.node { bind-host = \"0.0.0.0\", advertise-host = \"10.0.0.1\" }")
                    .withFallback(ConfigFactory.parseResources("application.conf"))
                    .withFallback(ConfigFactory.defaultReferenceUnresolved())
                    .resolve()));
  }

  @Test
  void aConfigFileWithoutTheIncludeIsRefusedSayingWhatToAdd() {
    SettingsException e = assertThrows(SettingsException.class, () -> check(load(NODE)));
    assertTrue(e.getMessage().startsWith("akka.actor.provider is \"local\""), e.getMessage());
    assertTrue(
        e.getMessage().contains("include required(classpath(\"application\"))"), e.getMessage());
    assertTrue(!e.getMessage().contains("\n"), e.getMessage());
  }

  @Test
  void remotingAtAnotherAddressThanTheNodesIsRefused() {
    SettingsException e =
        assertThrows(
            SettingsException.class,
            () ->
                check(
                    load(
                        NODE
                            + "akka.actor.provider = remote\n"
                            + "akka.remote.artery.canonical { hostname = \"10.9.9.9\", port = 7100 }\n")));
    assertTrue(
        e.getMessage().startsWith("akka.remote.artery.canonical.hostname is \"10.9.9.9\""),
        e.getMessage());
    SettingsException port =
        assertThrows(
            SettingsException.class,
            () ->
                check(
                    load(
                        NODE
                            + "akka.actor.provider = remote\n"
                            + "akka.remote.artery.canonical { hostname = \"127.0.0.1\" }\n")));
    assertTrue(
        port.getMessage().startsWith("akka.remote.artery.canonical.port is \"25520\""),
        port.getMessage());
  }
}

package dhtnode.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dhtnode.common.Consistency;
import dhtnode.common.HostPort;
import dhtnode.common.SettingsException;
import dhtnode.membership.LocalNode;
import dhtnode.storage.StorageSettings;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class NodeSettingsTest {

  static NodeSettings parse(String overrides) {
    return NodeSettings.from(
        ConfigFactory.parseString("dht.node.name = node1\n" + overrides)
            // unresolved, as ConfigFactory.load() merges it: reference.conf's ${dht.node.host}
            // and ${?DHT_...} then see the overrides
            .withFallback(ConfigFactory.defaultReferenceUnresolved())
            .resolve());
  }

  /**
   * The node as ConfigFactory.load() reads it with these environment variables set (given as
   * root-level keys, where a ${?VAR} looks first) and this config file.
   */
  static NodeSettings withEnv(String env, String confFile) {
    return NodeSettings.from(
        ConfigFactory.parseString(confFile)
            .withFallback(ConfigFactory.parseResources("application.conf"))
            .withFallback(ConfigFactory.defaultReferenceUnresolved())
            .withFallback(ConfigFactory.parseString(env))
            .resolve());
  }

  static void assertRefused(String overrides, String key, String hint) {
    SettingsException e = assertThrows(SettingsException.class, () -> parse(overrides));
    assertTrue(e.getMessage().startsWith(key + " "), e.getMessage());
    assertTrue(e.getMessage().contains(hint), e.getMessage());
    assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
  }

  @Test
  void defaultsAreSane() {
    NodeSettings s = parse("");
    assertEquals("node1", s.name);
    assertEquals("127.0.0.1", s.identity.bindHost());
    assertEquals("127.0.0.1", s.identity.advertiseHost());
    assertEquals("dht", s.identity.clusterName());
    assertEquals(8000, s.identity.httpPort());
    assertEquals(7000, s.identity.clusterPort());
    assertEquals(StorageSettings.Engine.ROCKSDB, s.storage.engine);
    assertEquals(false, s.storage.fsync);
    assertEquals(1 << 20, s.http.maxValueBytes);
    assertEquals(3, s.replication.replicationFactor);
    assertEquals(2, s.replication.readQuorum);
    assertEquals(2, s.replication.writeQuorum);
    assertEquals(Consistency.QUORUM, s.replication.defaultConsistency);
    assertEquals(new HostPort("127.0.0.1", 7000), s.identity.seeds().get(0));
  }

  @Test
  void theNodeFilesSetOnlyIdentityPortsAndDataDir() {
    NodeSettings s =
        NodeSettings.from(
            ConfigFactory.parseFile(Path.of("conf/node5.conf").toFile())
                .withFallback(ConfigFactory.parseResources("application.conf"))
                .withFallback(ConfigFactory.defaultReference())
                .resolve());
    assertEquals("node5", s.name);
    assertEquals(8004, s.identity.httpPort());
    assertEquals(7004, s.identity.clusterPort());
    assertEquals(Path.of("data/node5"), s.storage.dataDir);
  }

  @Test
  void aMissingNameIsRefused() {
    SettingsException e =
        assertThrows(
            SettingsException.class,
            () -> NodeSettings.from(ConfigFactory.defaultReference().resolve()));
    assertTrue(e.getMessage().startsWith("dht.node.name is missing"), e.getMessage());
  }

  @Test
  void badValuesAreRefusedNamingTheKey() {
    assertRefused("dht.node.name = \"bad name!\"", "dht.node.name", "letters");
    assertRefused("dht.node.http-port = 70000", "dht.node.http-port", "between 1 and 65535");
    assertRefused("dht.node.http-port = eighty", "dht.node.http-port", "NUMBER");
    assertRefused("dht.node.http-port = 7000", "dht.node.http-port", "must differ");
    assertRefused("dht.node.seeds = [\"nohost\"]", "dht.node.seeds", "host:port");
    assertRefused("dht.storage.engine = leveldb", "dht.storage.engine", "rocksdb or memory");
    assertRefused("dht.storage.fsync = maybe", "dht.storage.fsync", "BOOLEAN");
    assertRefused("dht.http.max-value-size = 0", "dht.http.max-value-size", "between");
    assertRefused("dht.http.request-timeout = 1ms", "dht.http.request-timeout", "between");
    assertRefused(
        "dht.replication.read-quorum = 1", "dht.replication.read-quorum", "must exceed factor");
    assertRefused(
        "dht.replication.write-quorum = 4", "dht.replication.write-quorum", "between 1 and 3");
    assertRefused(
        "dht.replication.default-consistency = most",
        "dht.replication.default-consistency",
        "one, quorum or all");
    assertRefused(
        "dht.replication.read-speculation = -1ms", "dht.replication.read-speculation", "between");
  }

  @Test
  void readSpeculationIsOnByDefaultAndZeroTurnsItOff() {
    assertEquals(java.time.Duration.ofMillis(20), parse("").replication.readSpeculation);
    assertEquals(null, parse("dht.replication.read-speculation = 0s").replication.readSpeculation);
  }

  @Test
  void theClockOffsetIsZeroByDefaultAndMayBeNegative() {
    assertEquals(java.time.Duration.ZERO, parse("").clockOffset);
    assertEquals(java.time.Duration.ofSeconds(5), parse("").clockReserveAhead);
    NodeSettings behind = parse("dht.testing.clock-offset = -90s");
    assertEquals(java.time.Duration.ofSeconds(-90), behind.clockOffset);
    long shifted = behind.wallMillis();
    long now = System.currentTimeMillis();
    assertTrue(
        now - shifted >= 89_000 && now - shifted <= 91_000, "90 s behind: " + (now - shifted));
    assertRefused("dht.clock.reserve-ahead = 1ms", "dht.clock.reserve-ahead", "between");
    assertRefused("dht.testing.clock-offset = 400d", "dht.testing.clock-offset", "between");
  }

  @Test
  void quorumCountsFollowTheConsistencyLevel() {
    NodeSettings s = parse("dht.replication { factor = 5, read-quorum = 2, write-quorum = 4 }");
    assertEquals(1, s.replication.quorumFor(Consistency.ONE, true));
    assertEquals(2, s.replication.quorumFor(Consistency.QUORUM, true));
    assertEquals(4, s.replication.quorumFor(Consistency.QUORUM, false));
    assertEquals(5, s.replication.quorumFor(Consistency.ALL, false));
  }

  @Test
  void bindAndAdvertiseHostsDefaultToHost() {
    NodeSettings s = parse("dht.node.host = \"10.0.0.5\"");
    assertEquals("10.0.0.5", s.identity.bindHost());
    assertEquals("10.0.0.5", s.identity.advertiseHost());
    NodeSettings nat =
        parse("dht.node { bind-host = \"10.0.0.5\", advertise-host = \"203.0.113.7\" }");
    assertEquals("10.0.0.5", nat.identity.bindHost());
    assertEquals("203.0.113.7", nat.identity.advertiseHost());
    NodeSettings bindOnly = parse("dht.node.bind-host = \"10.0.0.6\"");
    assertEquals("10.0.0.6", bindOnly.identity.advertiseHost());
  }

  @Test
  void bindingEveryInterfaceNeedsAnAdvertisedAddress() {
    assertRefused(
        "dht.node.bind-host = \"0.0.0.0\"", "dht.node.advertise-host", "DHT_ADVERTISE_HOST");
    assertRefused(
        "dht.node.host = \"0.0.0.0\"", "dht.node.advertise-host", "defaults to dht.node.bind-host");
    assertRefused(
        "dht.node { bind-host = \"0.0.0.0\", advertise-host = \"::\" }",
        "dht.node.advertise-host",
        "peers cannot send to");
    assertRefused("dht.node.bind-host = \" \"", "dht.node.bind-host", "must not be empty");
    NodeSettings s =
        parse("dht.node { bind-host = \"0.0.0.0\", advertise-host = \"10.231.17.2\" }");
    assertEquals("0.0.0.0", s.identity.bindHost());
    assertEquals("10.231.17.2", s.identity.advertiseHost());
  }

  @Test
  void theClusterNameDefaultsToDhtAndIsValidated() {
    assertEquals(LocalNode.DEFAULT_CLUSTER, parse("").identity.clusterName());
    assertEquals("prod-eu", parse("dht.cluster.name = prod-eu").identity.clusterName());
    assertRefused("dht.cluster.name = \"two words\"", "dht.cluster.name", "letters");
  }

  @Test
  void environmentVariablesSetTheNodeWithoutAConfigFileOfItsOwn() {
    NodeSettings s =
        withEnv(
            "DHT_NODE_NAME = m2, DHT_BIND_HOST = \"0.0.0.0\", DHT_ADVERTISE_HOST = \"10.1.0.2\","
                + " DHT_HTTP_PORT = 9100, DHT_CLUSTER_PORT = 9200,"
                + " DHT_SEEDS = \"10.1.0.1:9200, seed.example:9200\", DHT_DATA_DIR = /var/dht,"
                + " DHT_CLUSTER_NAME = prod",
            "");
    assertEquals("m2", s.name);
    assertEquals("0.0.0.0", s.identity.bindHost());
    assertEquals("10.1.0.2", s.identity.advertiseHost());
    assertEquals(9100, s.identity.httpPort());
    assertEquals(9200, s.identity.clusterPort());
    assertEquals(
        java.util.List.of(new HostPort("10.1.0.1", 9200), new HostPort("seed.example", 9200)),
        s.identity.seeds());
    assertEquals(Path.of("/var/dht"), s.storage.dataDir);
    assertEquals("prod", s.identity.clusterName());
  }

  @Test
  void aConfigFileWinsOverTheEnvironment() {
    NodeSettings s =
        withEnv(
            "DHT_NODE_NAME = fromenv, DHT_HTTP_PORT = 9100, DHT_ADVERTISE_HOST = \"10.1.0.2\"",
            "dht.node { name = fromfile, http-port = 9101, host = \"10.1.0.9\" }");
    assertEquals("fromfile", s.name);
    assertEquals(9101, s.identity.httpPort());
    assertEquals("10.1.0.9", s.identity.bindHost());
    assertEquals("10.1.0.2", s.identity.advertiseHost()); // the file does not set it
  }

  @Test
  void badEnvironmentValuesAreRefusedNamingTheKey() {
    SettingsException port =
        assertThrows(
            SettingsException.class, () -> withEnv("DHT_NODE_NAME = a, DHT_HTTP_PORT = x", ""));
    assertTrue(port.getMessage().startsWith("dht.node.http-port "), port.getMessage());
    SettingsException seeds =
        assertThrows(
            SettingsException.class,
            () -> withEnv("DHT_NODE_NAME = a, DHT_SEEDS = \"10.1.0.1:9200,nohost\"", ""));
    assertTrue(seeds.getMessage().startsWith("dht.node.seeds "), seeds.getMessage());
  }
}

package dhtnode.node;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import dhtnode.common.NodeIdentity;
import dhtnode.common.SettingsException;

/**
 * Starts one node: {@code java -Dconfig.file=conf/node1.conf -jar target/dht-node.jar}. A bad
 * configuration or a failed start exits with status 2 or 1 and one line saying what to fix.
 */
public final class Main {
  private Main() {}

  /** JVM property sizing the common fork-join pool; see {@link #main}. */
  static final String COMMON_POOL_PARALLELISM =
      "java.util.concurrent.ForkJoinPool.common.parallelism";

  /** The system property logback.xml prints on every line: this node's name. */
  static final String LOG_NODE_PROPERTY = "dht.log.node";

  public static void main(String[] args) {
    // On 1 or 2 cores the common pool gets parallelism 1, and CompletableFuture then runs every
    // async callback on a new Thread. Akka's context.ask completes through one (whenComplete on a
    // Scala future converter), so each replica reply cost a thread start. Two threads suffice;
    // set before anything touches ForkJoinPool, and only if the user did not choose.
    if (System.getProperty(COMMON_POOL_PARALLELISM) == null) {
      System.setProperty(COMMON_POOL_PARALLELISM, "2");
    }
    Config config;
    NodeSettings settings;
    try {
      config = ConfigFactory.load();
      // first: without application.conf's Akka settings every later complaint would mislead
      AkkaRequirements.check(config, NodeIdentity.from(config));
      settings = NodeSettings.from(config);
    } catch (ConfigException | SettingsException e) {
      System.err.println("dht-node: refusing to start: " + e.getMessage());
      System.exit(2);
      return;
    }
    // the logs name the node on every line (logback.xml); set before the first line is logged
    System.setProperty(LOG_NODE_PROPERTY, settings.name);
    ActorSystem<NodeGuardian.Command> system;
    try {
      system = ActorSystem.create(NodeGuardian.create(settings), "dht", config);
    } catch (RuntimeException e) {
      // e.g. the cluster port is taken: Artery fails while the system starts
      System.err.println("dht-node: " + settings.name + " failed to start: " + e.getMessage());
      System.exit(1);
      return;
    }
    system.getWhenTerminated().toCompletableFuture().join();
    boolean failed =
        CoordinatedShutdown.get(system)
            .getShutdownReason()
            .filter(reason -> reason instanceof NodeGuardian.StartupFailed)
            .isPresent();
    if (failed) {
      System.exit(1);
    }
  }
}

package dhtnode.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code dhtctl}: the operator's command line for a dht-node cluster, over any node's REST API
 * ({@code scripts/dhtctl}, or {@code java -cp target/dht-node.jar dhtnode.cli.Dhtctl}). Human
 * tables by default, {@code --json} for scripts. Exit status: 0 done, 1 the node answered with an
 * error, 2 bad arguments, 3 the node could not be reached, 4 no such key.
 *
 * <p>One file on purpose, though past 450 lines: each command is a short nested class next to the
 * options they all share, so the file reads as dhtctl's reference; the parts with logic of their
 * own (ownership shares, tables, the HTTP client, errors) are separate classes.
 */
@Command(
    name = "dhtctl",
    mixinStandardHelpOptions = true,
    version = "dhtctl (dht-node)",
    description = "Operates a dht-node cluster through any of its nodes.",
    subcommands = {
      Dhtctl.Status.class,
      Dhtctl.Ring.class,
      Dhtctl.Owners.class,
      Dhtctl.Get.class,
      Dhtctl.Put.class,
      Dhtctl.Del.class,
      Dhtctl.Repair.class,
      Dhtctl.Decommission.class,
      Dhtctl.Remove.class
    },
    exitCodeOnInvalidInput = CliException.USAGE)
public final class Dhtctl implements Callable<Integer> {
  @Option(
      names = "--node",
      paramLabel = "HOST:PORT",
      scope = CommandLine.ScopeType.INHERIT,
      description =
          "the node to ask, by its HTTP address (default: ${DEFAULT-VALUE}, node1 of the local cluster;"
              + " or the DHT_NODE environment variable)",
      defaultValue = "${env:DHT_NODE:-127.0.0.1:8000}")
  String node;

  @Option(
      names = "--json",
      scope = CommandLine.ScopeType.INHERIT,
      description = "print JSON instead of a table")
  boolean json;

  @Option(
      names = "--timeout",
      paramLabel = "SECONDS",
      scope = CommandLine.ScopeType.INHERIT,
      description = "how long to wait for each answer (default: ${DEFAULT-VALUE} s)",
      defaultValue = "10")
  int timeoutSeconds;

  PrintStream out = System.out;

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /** Runs one command line; what it prints goes to {@code out} and {@code err}. */
  static int run(String[] args, PrintStream out, PrintStream err) {
    Dhtctl root = new Dhtctl();
    root.out = out;
    CommandLine line = new CommandLine(root);
    line.setOut(new java.io.PrintWriter(out, true));
    line.setErr(new java.io.PrintWriter(err, true));
    line.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          if (e instanceof CliException failure) {
            err.println("dhtctl: " + failure.getMessage());
            return failure.exitCode;
          }
          throw e;
        });
    return line.execute(args);
  }

  @Override
  public Integer call() {
    new CommandLine(this).usage(out);
    return CliException.USAGE;
  }

  NodeClient client() {
    if (timeoutSeconds <= 0) {
      throw new CliException(CliException.USAGE, "--timeout must be a positive number of seconds");
    }
    if (!node.matches("[^\\s:/]+:\\d{1,5}")) {
      throw new CliException(
          CliException.USAGE, "--node must be HOST:PORT (a node's HTTP address), was " + node);
    }
    return new NodeClient(node, Duration.ofSeconds(timeoutSeconds));
  }

  void printJson(JsonNode value) {
    try {
      out.println(NodeClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(value));
    } catch (IOException e) {
      throw new CliException(CliException.FAILED, "cannot print JSON: " + e.getMessage());
    }
  }

  /** Prints {@code doc} with --json, else the one line {@code text} makes; the command's exit 0. */
  int show(JsonNode doc, java.util.function.Supplier<String> text) {
    if (json) {
      printJson(doc);
    } else {
      out.println(text.get());
    }
    return 0;
  }

  static String percent(double fraction) {
    return String.format(Locale.ROOT, "%.1f%%", 100 * fraction);
  }

  /**
   * One line per member, as {@code nodetool status}: SWIM state, ring state, share, keys, pending.
   */
  @Command(
      name = "status",
      description =
          "One line per member: address, SWIM state, ring state,"
              + " effective share of the token space, keys stored, ranges pending.")
  static final class Status implements Callable<Integer> {
    @ParentCommand Dhtctl root;

    @Override
    public Integer call() {
      NodeClient client = root.client();
      JsonNode members = client.json("/cluster/members");
      JsonNode ring = client.json("/cluster/ring");
      Map<String, Double> owns =
          Ownership.effective(
              Ownership.parse(ring.path("tokens")), ring.path("replicationFactor").asInt(3));
      ArrayNode rows = NodeClient.JSON.createArrayNode();
      for (JsonNode m : members.path("members")) {
        ObjectNode row = rows.addObject();
        String name = m.path("name").asText();
        String http = m.path("host").asText() + ":" + m.path("httpPort").asInt();
        row.put("name", name);
        row.put("address", m.path("host").asText() + ":" + m.path("clusterPort").asInt());
        row.put("http", http);
        row.put("swim", m.path("status").asText());
        row.put("ring", m.path("ring").asText("-"));
        row.put("owns", Math.round(owns.getOrDefault(name, 0.0) * 10_000) / 10_000.0);
        String swim = m.path("status").asText();
        if (swim.equals("ALIVE") || swim.equals("SUSPECT")) {
          ask(client.at(http), row);
        }
      }
      if (root.json) {
        ObjectNode doc = NodeClient.JSON.createObjectNode();
        doc.put("askedNode", client.address());
        doc.put("epoch", ring.path("epoch").asLong());
        doc.put("replicationFactor", ring.path("replicationFactor").asInt());
        doc.put("inTransition", ring.path("inTransition").asBoolean());
        doc.set("members", rows);
        root.printJson(doc);
        return 0;
      }
      root.out.printf(
          "ring epoch %d, replication factor %d%s (as %s sees it)%n",
          ring.path("epoch").asLong(),
          ring.path("replicationFactor").asInt(),
          ring.path("inTransition").asBoolean() ? ", in transition" : "",
          members.path("self").asText());
      Table table = new Table("NAME", "ADDRESS", "HTTP", "SWIM", "RING", "OWNS", "KEYS", "PENDING");
      for (JsonNode row : rows) {
        table.row(
            row.path("name").asText(),
            row.path("address").asText(),
            row.path("http").asText(),
            row.path("swim").asText(),
            row.path("ring").asText(),
            percent(row.path("owns").asDouble()),
            row.has("keys") ? row.path("keys").asLong() : "?",
            row.has("pendingRanges") ? row.path("pendingRanges").asLong() : "?");
      }
      root.out.print(table);
      return 0;
    }

    /** Keys and pending ranges from the member itself; left out when it does not answer. */
    private static void ask(NodeClient member, ObjectNode row) {
      try {
        JsonNode stab = member.json("/cluster/stabilization");
        row.put(
            "pendingRanges",
            stab.path("rangesToFill").asLong() + stab.path("recoveringRanges").asLong());
        row.put("settled", stab.path("settled").asBoolean());
        String metrics =
            new String(
                member.expect(member.send("GET", "/metrics", null, null), 200).body(),
                StandardCharsets.UTF_8);
        Double keys = gauge(metrics, "dht_storage_keys");
        if (keys != null) {
          row.put("keys", keys.longValue());
        }
      } catch (CliException e) {
        row.put("unreachable", e.getMessage());
      }
    }

    /** The value of an unlabelled (or first) sample of a Prometheus text gauge, or null. */
    static Double gauge(String metrics, String name) {
      for (String line : metrics.split("\n")) {
        if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
          return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
      return null;
    }
  }

  /** The ring: epoch, members, the next set while a transition runs, and each member's share. */
  @Command(
      name = "ring",
      description =
          "The ring's epoch, members, any transition, and each member's vnodes and share.")
  static final class Ring implements Callable<Integer> {
    @ParentCommand Dhtctl root;

    @Override
    public Integer call() {
      JsonNode ring = root.client().json("/cluster/ring");
      List<Ownership.VNode> vnodes = Ownership.parse(ring.path("tokens"));
      Map<String, Double> owns =
          Ownership.effective(vnodes, ring.path("replicationFactor").asInt(3));
      if (root.json) {
        root.printJson(ring);
        return 0;
      }
      root.out.printf(
          "epoch %d, replication factor %d, %d vnodes per member%n",
          ring.path("epoch").asLong(),
          ring.path("replicationFactor").asInt(),
          ring.path("vnodes").asInt());
      root.out.println("members: " + names(ring.path("members")));
      if (ring.path("inTransition").asBoolean()) {
        root.out.printf(
            "in transition to: %s (reads %s; %d range(s) in transition; awaiting fills from %s)%n",
            names(ring.path("next")),
            ring.path("readsMoved").asBoolean() ? "moved to the new set" : "on the old set",
            ring.path("rangesInTransition").asInt(),
            names(ring.path("awaitingFills")));
      }
      Table table = new Table("MEMBER", "VNODES", "OWNS");
      for (String member : names(ring.path("members"))) {
        long count = vnodes.stream().filter(v -> v.member().equals(member)).count();
        table.row(member, count, percent(owns.getOrDefault(member, 0.0)));
      }
      root.out.print(table);
      return 0;
    }

    static List<String> names(JsonNode array) {
      List<String> names = new ArrayList<>();
      array.forEach(n -> names.add(n.asText()));
      return names;
    }
  }

  @Command(
      name = "owners",
      description = "The replicas of a key, in preference order, and its token.")
  static final class Owners implements Callable<Integer> {
    @ParentCommand Dhtctl root;

    @Parameters(paramLabel = "KEY")
    String key;

    @Override
    public Integer call() {
      JsonNode owners = root.client().json("/cluster/owners/" + NodeClient.encodeSegment(key));
      return root.show(
          owners,
          () ->
              String.join(" ", Ring.names(owners.path("replicas")))
                  + "   (token "
                  + owners.path("token").asText()
                  + ")");
    }
  }

  /** Options every data command takes. */
  static class KeyCommand {
    @ParentCommand Dhtctl root;

    @Parameters(index = "0", paramLabel = "KEY")
    String key;

    @Option(
        names = "--consistency",
        paramLabel = "LEVEL",
        description = "one, quorum or all (default: the node's setting)")
    String consistency;

    String path() {
      if (consistency != null && !List.of("one", "quorum", "all").contains(consistency)) {
        throw new CliException(
            CliException.USAGE, "--consistency must be one, quorum or all, was " + consistency);
      }
      return NodeClient.dataPath(key, consistency);
    }
  }

  @Command(
      name = "get",
      description =
          "Prints a key's value (its bytes as stored), or its value and version with --json.")
  static final class Get extends KeyCommand implements Callable<Integer> {
    @Override
    public Integer call() throws IOException {
      NodeClient client = root.client();
      HttpResponse<byte[]> r = client.send("GET", path(), null, null);
      if (r.statusCode() == 404) {
        throw new CliException(CliException.NOT_FOUND, key + ": no such key");
      }
      client.expect(r, 200);
      if (root.json) {
        ObjectNode doc = NodeClient.JSON.createObjectNode();
        doc.put("key", key);
        doc.put("value", new String(r.body(), StandardCharsets.UTF_8));
        doc.put("version", r.headers().firstValue("X-Dht-Version").orElse(""));
        doc.put("contentType", r.headers().firstValue("Content-Type").orElse(""));
        root.printJson(doc);
      } else {
        root.out.write(r.body());
        root.out.flush();
        if (r.body().length > 0
            && r.body()[r.body().length - 1] != '\n'
            && System.console() != null) {
          root.out.println();
        }
      }
      return 0;
    }
  }

  @Command(
      name = "put",
      description = "Writes a key: the value from the argument, --file, or standard input.")
  static final class Put extends KeyCommand implements Callable<Integer> {
    @Parameters(
        index = "1",
        paramLabel = "VALUE",
        arity = "0..1",
        description = "the value (else --file or stdin)")
    String value;

    @Option(names = "--file", paramLabel = "FILE", description = "read the value from a file")
    Path file;

    @Option(
        names = "--content-type",
        paramLabel = "TYPE",
        defaultValue = "text/plain; charset=UTF-8",
        description = "stored with the value and served back (default: ${DEFAULT-VALUE})")
    String contentType;

    @Override
    public Integer call() throws IOException {
      if (value != null && file != null) {
        throw new CliException(CliException.USAGE, "give the value or --file, not both");
      }
      byte[] body =
          value != null
              ? value.getBytes(StandardCharsets.UTF_8)
              : file != null ? Files.readAllBytes(file) : System.in.readAllBytes();
      NodeClient client = root.client();
      JsonNode answer =
          NodeClient.JSON.readTree(
              client.expect(client.send("PUT", path(), body, contentType), 200).body());
      return root.show(answer, () -> "OK " + key + " version " + answer.path("version").asText());
    }
  }

  @Command(name = "del", description = "Deletes a key.")
  static final class Del extends KeyCommand implements Callable<Integer> {
    @Override
    public Integer call() throws IOException {
      NodeClient client = root.client();
      HttpResponse<byte[]> r = client.send("DELETE", path(), null, null);
      if (r.statusCode() / 100 != 2) {
        throw CliException.answered(client.address(), r);
      }
      JsonNode answer =
          r.body().length == 0
              ? NodeClient.JSON.createObjectNode()
              : NodeClient.JSON.readTree(r.body());
      return root.show(answer, () -> "deleted " + key);
    }
  }

  @Command(name = "repair", description = "Starts an anti-entropy round on the node now.")
  static final class Repair implements Callable<Integer> {
    @ParentCommand Dhtctl root;

    @Override
    public Integer call() {
      JsonNode answer = root.client().post("/cluster/repair");
      return root.show(
          answer,
          () ->
              "repair started: "
                  + answer.path("sessions").asInt()
                  + " session(s) with "
                  + Ring.names(answer.path("peers")));
    }
  }

  @Command(
      name = "decommission",
      description = "Streams the node's ranges to the others, leaves the ring, then stops it.")
  static final class Decommission implements Callable<Integer> {
    @ParentCommand Dhtctl root;

    @Override
    public Integer call() {
      JsonNode answer = root.client().post("/cluster/decommission");
      return root.show(answer, () -> "decommissioning " + root.node + ": " + answer);
    }
  }

  @Command(
      name = "remove",
      description =
          "Forces a dead member out of the ring, accepting the loss of keys"
              + " whose only copies it held.")
  static final class Remove implements Callable<Integer> {
    @ParentCommand Dhtctl root;

    @Parameters(paramLabel = "NODE")
    String member;

    @Override
    public Integer call() {
      JsonNode answer = root.client().post("/cluster/remove/" + NodeClient.encodeSegment(member));
      return root.show(answer, () -> "removing " + member + ": " + answer);
    }
  }
}

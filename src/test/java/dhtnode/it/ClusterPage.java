package dhtnode.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The live cluster page in a real browser (Debian's headless chromium driven by Selenium through
 * chromedriver), checked by {@link ClusterScriptsIT} on the three nodes it started with the
 * scripts, so the suite starts no cluster for it alone: the page of node1 shows them ALIVE with the
 * ring and each node's request meters; node3 is killed with kill -9 and the page, polling by
 * itself, shows it SUSPECT and then DEAD, and its own meters unreachable. Prints the time from the
 * kill to DEAD on the page. Skipped (with a line saying so) when chromium or chromedriver is
 * missing and this is not root; as root (CI) a missing browser fails, since .ci/run installs it.
 */
final class ClusterPage {
  private ClusterPage() {}

  private static final Duration SHOWN_ALIVE = Duration.ofSeconds(30);
  private static final Duration SHOWN_DEAD = Duration.ofSeconds(30);

  /** One row of the members table as the page shows it: the SWIM status and each cell's text. */
  record Row(String status, Map<String, String> cells) {
    String cell(String kind) {
      return cells.getOrDefault(kind, "");
    }
  }

  /** Checks the page of node1 of a running 3-node cluster, killing node3 on the way. */
  static void showsTheClusterLiveAndAKilledNodeTurnsDead(ProcessCluster cluster) throws Exception {
    Optional<Path> chromium = onPath("chromium", "chromium-browser");
    Optional<Path> chromedriver = onPath("chromedriver");
    boolean root = ProcessHandle.current().info().user().map("root"::equals).orElse(false);
    if (chromium.isEmpty() || chromedriver.isEmpty()) {
      if (!root) {
        System.out.println(
            "[it] the cluster page is not checked: it needs chromium and chromedriver"
                + " (apt-get install -y chromium chromium-driver)");
        return;
      }
      fail("chromium or chromedriver is missing; .ci/run installs them (chromium chromium-driver)");
    }
    long start = System.nanoTime();
    WebDriver page = browser(chromium.get(), chromedriver.get());
    try {
      page.get(cluster.baseUrl(1) + "/");
      ProcessCluster.phase("chromium opened the page", start);
      seenLiveAndDead(cluster, page);
    } finally {
      page.quit();
    }
    ProcessCluster.phase("the cluster page, from opening it to node3 DEAD on it", start);
  }

  private static void seenLiveAndDead(ProcessCluster cluster, WebDriver page) throws Exception {
    long shown = System.nanoTime();
    awaitPage(
        page,
        "3 ALIVE members and the ring",
        SHOWN_ALIVE,
        p -> {
          Map<String, Row> rows = rows(p);
          return rows.size() == 3
              && rows.values().stream().allMatch(r -> r.status().equals("ALIVE"))
              && ringNodes(p).size() == 3;
        });
    ProcessCluster.phase("the page shows 3 ALIVE members and the ring", shown);
    // 3 members, N = 3: each replicates the whole token space
    for (List<String> share : shares(page)) {
      assertEquals("100.0%", share.get(3), "replicated share " + share);
    }
    assertTrue(text(page, "#summary").contains("ring epoch"), "the summary names the ring epoch");

    // requests to node1 show up in its own meters: a rate and a p99
    List<CompletableFuture<?>> writes = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      writes.add(cluster.sendAsync(1, "PUT", "/d/page-" + i, "v"));
    }
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).join();
    awaitPage(
        page,
        "node1's request rate and p99",
        Duration.ofSeconds(15),
        p -> {
          Row node1 = rows(p).get("node1");
          return node1.cell("rate").matches("[0-9.]+")
              && Double.parseDouble(node1.cell("rate")) > 0
              && node1.cell("p99").matches("[0-9.]+ m?s|> 5 s");
        });

    List<String> seen = new ArrayList<>();
    long killed = System.nanoTime();
    cluster.kill(3);
    awaitPage(
        page,
        "node3 DEAD",
        SHOWN_DEAD,
        p -> {
          String status = rows(p).get("node3").status();
          if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(status)) {
            seen.add(status);
          }
          return status.equals("DEAD");
        });
    ProcessCluster.phase("kill -9 node3 -> DEAD on the page (seen " + seen + ")", killed);
    assertEquals("unreachable", rows(page).get("node3").cell("ready"), "node3's own readiness");
    assertEquals("ALIVE", rows(page).get("node2").status());
  }

  private static WebDriver browser(Path chromium, Path chromedriver) {
    // the Debian driver, never one Selenium Manager would download
    System.setProperty("webdriver.chrome.driver", chromedriver.toString());
    ChromeOptions options = new ChromeOptions();
    options.setBinary(chromium.toFile());
    options.addArguments(
        "--headless=new",
        "--no-sandbox", // as root, chromium runs only without its sandbox
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900");
    return new ChromeDriver(options);
  }

  /**
   * Polls the page every 100 ms until {@code shown} holds, or fails after {@code limit} with what
   * the page showed last.
   */
  private static void awaitPage(
      WebDriver page, String what, Duration limit, Function<WebDriver, Boolean> shown)
      throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (true) {
      try {
        if (shown.apply(page)) {
          return;
        }
      } catch (RuntimeException notYet) {
        // a table still empty, or a row not drawn yet: not shown yet
      }
      if (System.nanoTime() > deadline) {
        fail(
            "the page did not show "
                + what
                + " within "
                + limit.toSeconds()
                + " s; it shows:\n"
                + text(page, "body"));
      }
      Thread.sleep(100); // poll interval of the wait, not a stand-in for the condition
    }
  }

  /** The members table by node, read in one script so a redraw cannot fall between cells. */
  @SuppressWarnings("unchecked")
  private static Map<String, Row> rows(WebDriver page) {
    // each cell by its class (name, swim, ready, rate, p99, ...; "own" marks a node's own answer)
    List<List<Object>> raw =
        (List<List<Object>>)
            ((JavascriptExecutor) page)
                .executeScript(
                    "return Array.from(document.querySelectorAll('#members tbody tr'))"
                        + ".map(r => [r.dataset.node, r.dataset.status, Object.fromEntries("
                        + "Array.from(r.cells).map(c => [[...c.classList].find(k => k !== 'own'),"
                        + " c.textContent]))])");
    Map<String, Row> rows = new LinkedHashMap<>();
    for (List<Object> r : raw) {
      rows.put((String) r.get(0), new Row((String) r.get(1), (Map<String, String>) r.get(2)));
    }
    return rows;
  }

  @SuppressWarnings("unchecked")
  private static List<String> ringNodes(WebDriver page) {
    return (List<String>)
        ((JavascriptExecutor) page)
            .executeScript(
                "return [...new Set(Array.from(document.querySelectorAll('#ring path.arc'))"
                    + ".map(a => a.dataset.node))]");
  }

  @SuppressWarnings("unchecked")
  private static List<List<String>> shares(WebDriver page) {
    return (List<List<String>>)
        ((JavascriptExecutor) page)
            .executeScript(
                "return Array.from(document.querySelectorAll('#shares tbody tr'))"
                    + ".map(r => Array.from(r.cells).map(c => c.textContent))");
  }

  private static String text(WebDriver page, String selector) {
    return String.valueOf(
        ((JavascriptExecutor) page)
            .executeScript(
                "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
                selector));
  }

  private static Optional<Path> onPath(String... names) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      for (String name : names) {
        Path candidate = Path.of(dir, name);
        if (Files.isExecutable(candidate)) {
          return Optional.of(candidate);
        }
      }
    }
    return Optional.empty();
  }
}

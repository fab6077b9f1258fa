package dhtnode.api;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import dhtnode.keyspace.Murmur3;
import dhtnode.ring.HashRing;
import dhtnode.ring.RingSnapshot;
import dhtnode.ring.RingView;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /cluster/ring} and {@code GET /cluster/owners/{key}}, answered from the {@link
 * RingView} without asking any actor. Tokens are rendered as decimal strings of the signed 64-bit
 * value, because JSON numbers above 2^53 lose precision in JavaScript clients. The owners answer
 * depends only on the read ring's member set. {@code epoch} is the agreed ring epoch this node
 * knows; during a transition {@code members} is the read ring, {@code next} the ring it moves to
 * and {@code rangesInTransition} how many token ranges change replica set ({@code transitionRanges}
 * lists them). The tokens listed are the read ring's.
 */
public final class RingRoutes extends AllDirectives {

  private final HttpSettings settings;
  private final RingView view;
  // the ring body only changes with the epoch, and a big ring is thousands of tokens
  private volatile Rendered rendered;

  private record Rendered(RingSnapshot snapshot, RingView.Fills fills, byte[] json) {}

  public RingRoutes(HttpSettings settings, RingView view) {
    this.settings = settings;
    this.view = view;
  }

  public Route route() {
    return pathPrefix(
        "cluster",
        () ->
            concat(
                path("ring", () -> get(this::ring)),
                pathPrefix(
                    "owners",
                    () ->
                        get(
                            () ->
                                extractRequest(
                                    request ->
                                        // decoded from the raw URI, exactly as /d/{key} is, so both
                                        // name the same key
                                        KeyPath.rawPathAfter(request, "/cluster/owners")
                                            .map(this::owners)
                                            .orElseGet(this::reject))))));
  }

  private Route ring() {
    RingSnapshot snapshot = view.current();
    Rendered cached = rendered;
    if (cached == null || cached.snapshot() != snapshot || cached.fills() != view.fills()) {
      cached = new Rendered(snapshot, view.fills(), ErrorBody.json(ringBody(snapshot, view)));
      rendered = cached;
    }
    return complete(HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, cached.json()));
  }

  private static Map<String, Object> ringBody(RingSnapshot snapshot, RingView view) {
    HashRing ring = snapshot.ring();
    List<dhtnode.keyspace.TokenRange> moving = snapshot.rangesInTransition();
    List<Map<String, String>> tokens = new ArrayList<>(ring.size());
    for (HashRing.VNodeToken vnode : ring.tokens()) {
      Map<String, String> entry = new LinkedHashMap<>();
      entry.put("token", Long.toString(vnode.token()));
      entry.put("node", vnode.node());
      tokens.add(entry);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("epoch", snapshot.epoch());
    body.put("replicationFactor", ring.replicationFactor());
    body.put("vnodes", ring.vnodes());
    // "members" is the read ring (the old set during a transition); "next" the set it moves to
    body.put("members", ring.members());
    body.put("inTransition", snapshot.inTransition());
    body.put("readsMoved", snapshot.readsMoved());
    body.put("next", snapshot.next().members());
    body.put("rangesInTransition", moving.size());
    // which arcs change replica set, (start, end] as decimal strings: the cluster page draws them
    List<Map<String, String>> arcs = new ArrayList<>(moving.size());
    for (dhtnode.keyspace.TokenRange range : moving) {
      Map<String, String> arc = new LinkedHashMap<>();
      arc.put("start", Long.toString(range.start()));
      arc.put("end", Long.toString(range.end()));
      arcs.add(arc);
    }
    body.put("transitionRanges", arcs);
    RingView.Fills fills = view.fills();
    if (fills.epoch() == snapshot.epoch()) {
      // which gainers the transition still waits for before reads move; once they have, who has
      // reported being at the epoch (the barrier before the stable epoch)
      body.put("awaitingFills", fills.awaiting());
      body.put("fillsReported", new java.util.TreeSet<>(fills.reported()));
    }
    body.put("tokens", tokens);
    return body;
  }

  private Route owners(String encodedKey) {
    String key;
    try {
      key = KeyPath.decode(encodedKey, settings.maxKeyBytes);
    } catch (KeyPath.BadKey e) {
      return complete(KeyPath.badKeyResponse(e));
    }
    long token = Murmur3.token(key);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("key", key);
    body.put("token", Long.toString(token));
    body.put("replicas", view.ring().preferenceList(token));
    return complete(
        HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, ErrorBody.json(body)));
  }
}

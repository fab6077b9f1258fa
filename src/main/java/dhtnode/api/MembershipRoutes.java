package dhtnode.api;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.AskPattern;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import dhtnode.membership.Member;
import dhtnode.membership.MembershipActor;
import dhtnode.ring.RingSnapshot;
import dhtnode.ring.RingView;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;

/**
 * {@code GET /cluster/members}: this node's membership view, asked of the {@link MembershipActor}.
 * Answers 200 with {@code {"self", "epoch", "members": [...]}} (DEAD and LEFT members included
 * while they are remembered), or 503 with a JSON error body when the actor does not answer in time.
 * Beside each member's SWIM status, {@code ring} says where the agreed ring epoch has it: {@code
 * current}, {@code joining}, {@code leaving} or {@code none}; ring members SWIM does not list
 * appear with status {@code UNKNOWN}. SWIM detects; only the ring epoch decides. Each listed member
 * also has {@code since}, when it entered its current status here (ISO-8601 UTC with milliseconds,
 * this node's wall clock), and {@code suspectedBy}, the accusers of a running suspicion (empty
 * unless SUSPECT).
 */
public final class MembershipRoutes extends AllDirectives {
  private final ActorSystem<?> system;
  private final ActorRef<MembershipActor.Command> membership;
  private final Duration timeout;
  private final RingView ring;

  /** Without ring membership in the answer (a node whose ring is not wired, e.g. in tests). */
  public MembershipRoutes(
      ActorSystem<?> system, ActorRef<MembershipActor.Command> membership, Duration timeout) {
    this(system, membership, timeout, null);
  }

  public MembershipRoutes(
      ActorSystem<?> system,
      ActorRef<MembershipActor.Command> membership,
      Duration timeout,
      RingView ring) {
    this.system = system;
    this.membership = membership;
    this.timeout = timeout;
    this.ring = ring;
  }

  public Route route() {
    return pathPrefix(
        "cluster", () -> path("members", () -> get(() -> completeWithFuture(members()))));
  }

  private CompletionStage<HttpResponse> members() {
    CompletionStage<MembershipActor.Members> reply =
        AskPattern.ask(membership, MembershipActor.GetMembers::new, timeout, system.scheduler());
    return reply.handle(
        (members, failure) -> {
          if (failure != null) {
            return unavailable(failure);
          }
          RingSnapshot snapshot = ring == null ? null : ring.current();
          Set<String> unlisted = new TreeSet<>();
          if (snapshot != null) {
            unlisted.addAll(snapshot.ring().members());
            unlisted.addAll(snapshot.next().members());
          }
          List<Map<String, Object>> list = new ArrayList<>();
          for (Member m : members.members()) {
            unlisted.remove(m.name());
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", m.name());
            entry.put("host", m.host());
            entry.put("httpPort", m.httpPort());
            entry.put("clusterPort", m.clusterPort());
            entry.put("status", m.status().name());
            entry.put("incarnation", m.incarnation());
            MembershipActor.Standing standing = members.standings().get(m.name());
            if (standing != null) {
              if (standing.since() != null) {
                entry.put("since", standing.since().truncatedTo(ChronoUnit.MILLIS).toString());
              }
              entry.put("suspectedBy", standing.suspectedBy());
            }
            if (snapshot != null) {
              entry.put("ring", ringMembership(snapshot, m.name()));
            }
            list.add(entry);
          }
          // ring members SWIM does not list (not heard from since this node started)
          for (String name : unlisted) {
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", name);
            entry.put("status", "UNKNOWN");
            entry.put("ring", ringMembership(snapshot, name));
            list.add(entry);
          }
          Map<String, Object> body = new LinkedHashMap<>();
          body.put("self", members.self());
          if (snapshot != null) {
            body.put("epoch", snapshot.epoch());
          }
          body.put("members", list);
          return HttpResponse.create()
              .withEntity(ContentTypes.APPLICATION_JSON, ErrorBody.json(body));
        });
  }

  /**
   * Where the agreed ring has a member: "current" (a replica in both the read and the target ring,
   * or the only ring when stable), "leaving" (read ring only), "joining" (target ring only) or
   * "none".
   */
  static String ringMembership(RingSnapshot snapshot, String name) {
    boolean inCurrent = snapshot.ring().contains(name);
    boolean inNext = snapshot.next().contains(name);
    if (inCurrent && inNext) {
      return "current";
    }
    return inCurrent ? "leaving" : inNext ? "joining" : "none";
  }

  private HttpResponse unavailable(Throwable failure) {
    return ErrorBody.askFailed(failure, "membership", timeout, "");
  }
}

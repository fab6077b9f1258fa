package dhtnode.stabilization;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import dhtnode.ring.TokenRange;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Asks every source whether it holds a range (replicates it in its ring and has filled it,
 * {@link Stabilizer.CheckHeld}) and answers once with those that do, in the order given; a source
 * that does not answer within the timeout does not hold it. Used by fills to prefer settled
 * sources and by a resync to decide whether it may replace its copy.
 */
final class HoldersCheck extends AbstractBehavior<HoldersCheck.Command> {

  sealed interface Command {}

  private record Checked(Stabilizer.Source source, Stabilizer.PeerReply reply) implements Command {}

  /** The sources that hold the range, in the order they were given. */
  record Holders(List<Stabilizer.Source> holders) {}

  static Behavior<Command> create(TokenRange range, List<Stabilizer.Source> sources, Duration timeout,
      ActorRef<Holders> replyTo) {
    return Behaviors.setup(context -> {
      for (Stabilizer.Source source : sources) {
        context.ask(Stabilizer.PeerReply.class, source.stabilizer(), timeout,
            ref -> new Stabilizer.CheckHeld(List.of(range), ref), (reply, failure) -> new Checked(source, reply));
      }
      return new HoldersCheck(context, range, sources, replyTo);
    });
  }

  private final TokenRange range;
  private final List<Stabilizer.Source> sources;
  private final ActorRef<Holders> replyTo;
  private final Set<Stabilizer.Source> holding = new HashSet<>();
  private int answers;

  private HoldersCheck(ActorContext<Command> context, TokenRange range, List<Stabilizer.Source> sources,
      ActorRef<Holders> replyTo) {
    super(context);
    this.range = range;
    this.sources = List.copyOf(sources);
    this.replyTo = replyTo;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder().onMessage(Checked.class, this::onChecked).build();
  }

  private Behavior<Command> onChecked(Checked checked) {
    if (checked.reply() instanceof Stabilizer.Held held && held.ranges().contains(range)) {
      holding.add(checked.source());
    }
    if (++answers < sources.size()) {
      return this;
    }
    List<Stabilizer.Source> out = new ArrayList<>();
    for (Stabilizer.Source s : sources) {
      if (holding.contains(s)) {
        out.add(s);
      }
    }
    replyTo.tell(new Holders(out));
    return Behaviors.stopped();
  }
}

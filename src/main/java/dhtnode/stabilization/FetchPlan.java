package dhtnode.stabilization;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Which source a range fetch reads next and from which key, as an immutable state machine.
 *
 * <p>A fetch makes {@code mergeFrom} passes over the range; each pass streams the whole range in
 * ring order. A pass starts on the next unused source; when that source stops answering, the pass
 * continues from its cursor (the last applied key) on the next unused source. No source serves two
 * passes, so every key of the range is read from {@code mergeFrom} distinct sources: with {@code
 * mergeFrom = N - W + 1} that meets every earlier write quorum of W among the N old replicas. The
 * fetch fails when the sources run out first.
 */
public final class FetchPlan {
  private final List<String> sources;
  private final int mergeFrom;

  /** Index of the source serving the current pass, or -1 when finished. */
  private final int current;

  /** Index of the first source no pass has used yet. */
  private final int nextUnused;

  /** Resume point of the current pass: entries strictly after this key; null at the start. */
  private final String cursor;

  private final List<String> completedFrom;
  private final String failure;

  private FetchPlan(
      List<String> sources,
      int mergeFrom,
      int current,
      int nextUnused,
      String cursor,
      List<String> completedFrom,
      String failure) {
    this.sources = sources;
    this.mergeFrom = mergeFrom;
    this.current = current;
    this.nextUnused = nextUnused;
    this.cursor = cursor;
    this.completedFrom = completedFrom;
    this.failure = failure;
  }

  /**
   * @throws IllegalArgumentException unless 1 <= mergeFrom <= sources and names are distinct
   */
  public static FetchPlan start(List<String> sources, int mergeFrom) {
    List<String> names = List.copyOf(sources);
    if (mergeFrom < 1 || mergeFrom > names.size()) {
      throw new IllegalArgumentException(
          "mergeFrom must be between 1 and the number of sources ("
              + names.size()
              + "), was "
              + mergeFrom);
    }
    if (names.stream().distinct().count() != names.size()) {
      throw new IllegalArgumentException("sources must be distinct: " + names);
    }
    return new FetchPlan(names, mergeFrom, 0, 1, null, List.of(), null);
  }

  public boolean finished() {
    return current < 0;
  }

  public boolean succeeded() {
    return finished() && failure == null;
  }

  /** Index into the source list of the source to ask next; -1 when finished. */
  public int currentSource() {
    return current;
  }

  public String currentSourceName() {
    return current < 0 ? null : sources.get(current);
  }

  /** Ask the current source for entries strictly after this key (null: from the range start). */
  public String cursor() {
    return cursor;
  }

  /** The source that finished each completed pass, in order. */
  public List<String> completedFrom() {
    return completedFrom;
  }

  /** Why the fetch failed; null while running or after success. */
  public String failure() {
    return failure;
  }

  /**
   * The current source's batch is applied locally. {@code lastKey} is the batch's last key (null
   * for an empty batch); {@code complete} when the source has nothing beyond it in the range.
   */
  public FetchPlan batchApplied(String lastKey, boolean complete) {
    requireRunning();
    String newCursor = lastKey == null ? cursor : lastKey;
    if (!complete) {
      return new FetchPlan(sources, mergeFrom, current, nextUnused, newCursor, completedFrom, null);
    }
    List<String> done = new ArrayList<>(completedFrom);
    done.add(sources.get(current));
    List<String> doneNow = List.copyOf(done);
    if (doneNow.size() == mergeFrom) {
      return new FetchPlan(sources, mergeFrom, -1, nextUnused, null, doneNow, null);
    }
    if (nextUnused >= sources.size()) {
      return failed(
          doneNow, "no source left for pass " + (doneNow.size() + 1) + " of " + mergeFrom);
    }
    return new FetchPlan(sources, mergeFrom, nextUnused, nextUnused + 1, null, doneNow, null);
  }

  /** The current source did not answer in time (or answered with an error). */
  public FetchPlan sourceFailed(String reason) {
    requireRunning();
    String why = sources.get(current) + " failed (" + reason + ")";
    if (nextUnused >= sources.size()) {
      return failed(
          completedFrom,
          why
              + "; no source left, "
              + completedFrom.size()
              + " of "
              + mergeFrom
              + " passes complete");
    }
    return new FetchPlan(
        sources, mergeFrom, nextUnused, nextUnused + 1, cursor, completedFrom, null);
  }

  private FetchPlan failed(List<String> done, String why) {
    return new FetchPlan(
        sources, mergeFrom, -1, nextUnused, null, done, Objects.requireNonNull(why));
  }

  private void requireRunning() {
    if (finished()) {
      throw new IllegalStateException("fetch plan already finished");
    }
  }
}

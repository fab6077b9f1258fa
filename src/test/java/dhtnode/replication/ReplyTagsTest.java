package dhtnode.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dhtnode.storage.StorageActor;
import org.junit.jupiter.api.Test;

class ReplyTagsTest {

  @Test
  void aTagNamesItsReplicaAndStepAndIsTakenOnce() {
    ReplyTags tags = new ReplyTags(3);
    int tag = tags.expect(2, 4);
    assertEquals(1, tags.outstanding());
    int slot = tags.take(tag);
    assertEquals(2, ReplyTags.replicaOf(slot));
    assertEquals(4, ReplyTags.stepOf(slot));
    assertEquals(0, tags.outstanding());
    assertEquals(-1, tags.take(tag), "a second reply with the same tag");
  }

  @Test
  void repliesToAnEarlierAttemptOrWithoutATagAreNotTaken() {
    ReplyTags tags = new ReplyTags(3);
    int old = tags.expect(0, 1);
    tags.nextAttempt(3);
    assertEquals(0, tags.outstanding());
    int fresh = tags.expect(0, 1);
    assertEquals(-1, tags.take(old));
    assertEquals(-1, tags.take(-1));
    assertEquals(0, ReplyTags.replicaOf(tags.take(fresh)));
  }

  @Test
  void forgettingForANewPlacementDropsWhatWasAwaited() {
    ReplyTags tags = new ReplyTags(5);
    int far = tags.expect(4, 0);
    tags.forget(2);
    assertEquals(0, tags.outstanding());
    assertEquals(-1, tags.take(far), "a replica the new placement does not have");
  }

  @Test
  void theTagIsReadFromEveryReplyThatCarriesOne() {
    assertEquals(7, ReplyTags.tagOf(new StorageActor.PendingReplica("k", 7)));
    assertEquals(9, ReplyTags.tagOf(new StorageActor.WrongEpoch("k", 3, 9)));
    assertEquals(-1, ReplyTags.tagOf(new StorageActor.Stats(1, 2)));
  }
}

package dhtnode.ring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RingStateStoreTest {

  private static final RingMember A = new RingMember("a", "127.0.0.1", 7000, 8000);
  private static final RingMember B = new RingMember("b", "127.0.0.2", 7001, 8001);

  @Test
  void aDirectoryWithoutStateLoadsAsEpochZero(@TempDir Path dir) {
    assertEquals(RingState.EMPTY, RingStateStore.inDirectory(dir.resolve("never-created")).load());
  }

  @Test
  void savedStateLoadsBackEqualWithAcceptorStateAndATransition(@TempDir Path dir) {
    RingConfig transition =
        new RingConfig(List.of(A), List.of(A, B), Map.of("c", 1234L), "joined b", "a");
    RingConfig accepted = RingConfig.stable(List.of(A, B), Map.of(), "finished", "b");
    RingState state =
        new RingState(7, transition, new Ballot(9, "b"), new Ballot(8, "a"), accepted);
    RingStateStore.inDirectory(dir).save(state);
    // a new store, as after a restart
    assertEquals(state, RingStateStore.inDirectory(dir).load());
    RingState later = new RingState(8, accepted, null, null, null);
    RingStateStore.inDirectory(dir).save(later);
    assertEquals(later, RingStateStore.inDirectory(dir).load());
    assertFalse(Files.exists(dir.resolve("ring-state.json.tmp")), "the temporary file was renamed");
  }

  @Test
  void aFileOfAnotherFormatIsRefusedNotMisread(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("ring-state.json"), "{\"format\": 2, \"state\": {}}");
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> RingStateStore.inDirectory(dir).load());
    assertTrue(e.getMessage().contains("format 2"), e.getMessage());
  }
}

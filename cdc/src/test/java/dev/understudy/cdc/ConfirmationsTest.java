package dev.understudy.cdc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.understudy.cdc.Confirmations.Mark;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfirmationsTest {

    @Test
    void aMarkIsReachedOnlyByAPositionAtOrPastItInTheSameMastersStream() {
        Mark mark = new Mark("7301", 1000);
        assertTrue(mark.reachedBy(new Mark("7301", 1000)));
        assertTrue(mark.reachedBy(new Mark("7301", 5000)));
        assertFalse(mark.reachedBy(new Mark("7301", 999)), "behind");
        assertFalse(mark.reachedBy(new Mark("9999", 5000)), "another master's stream: positions do not compare");
        assertFalse(mark.reachedBy(null), "unknown");
    }

    @Test
    void notificationsOfThisStreamAreReadOthersIgnored() {
        try (Confirmations c = new Confirmations("understudy", List.of(), Duration.ofSeconds(1))) {
            assertEquals(new Mark("7301", 42), c.parse("understudy 7301 42"));
            assertNull(c.parse("other 7301 42"), "another stream");
            assertNull(c.parse("understudy  42"), "no origin: recorded before origins were");
            assertNull(c.parse("understudy 7301 x"), "not a position");
            assertNull(c.parse("understudy 7301"), "too short");
        }
    }

    @Test
    void withNoReplicaAWaitEndsUnconfirmed() throws Exception {
        try (Confirmations c = new Confirmations("understudy", List.of(), Duration.ofSeconds(1))) {
            assertFalse(c.awaitApplied(new Mark("7301", 1), n -> true, Duration.ofMillis(20)));
        }
    }
}

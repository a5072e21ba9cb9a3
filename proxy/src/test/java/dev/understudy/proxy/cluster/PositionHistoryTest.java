package dev.understudy.proxy.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Times are nanoTime values in milliseconds times {@link #MS}, as a fake clock would give them. */
class PositionHistoryTest {

    private static final long MS = 1_000_000L;
    /** nanoTime may be negative or wrap: every comparison must subtract. */
    private static final long T0 = Long.MAX_VALUE - 500 * MS;

    private static long at(long millis) {
        return T0 + millis * MS;
    }

    @Test
    void nothingIsKnownBeforeTheFirstCheck() {
        PositionHistory h = new PositionHistory();
        assertEquals(Lsn.UNKNOWN, h.latest());
        assertEquals(Lsn.UNKNOWN, h.bytesBehind(100));
        assertEquals(Lsn.UNKNOWN, h.millisBehind(100, at(0)));
        assertEquals(Lsn.UNKNOWN, h.readAfter(at(0)));
    }

    @Test
    void aReplicaThatReachedTheLatestPositionHasNoLag() {
        PositionHistory master = new PositionHistory();
        master.record(at(0), 1000);
        master.record(at(300), 2000);
        assertEquals(0, master.millisBehind(2000, at(5000)));
        assertEquals(0, master.millisBehind(2500, at(5000)), "a replica checked after the master may be ahead");
        assertEquals(0, master.bytesBehind(2000));
        assertEquals(0, master.bytesBehind(2500));
    }

    @Test
    void lagIsHowLongAgoTheMasterFirstWentPastTheReplicasPosition() {
        PositionHistory master = new PositionHistory();
        master.record(at(0), 1000);
        master.record(at(300), 2000);
        master.record(at(600), 2000); // idle: same position
        master.record(at(900), 3000);
        master.record(at(1200), 4000);

        assertEquals(300, master.millisBehind(3500, at(1500)), "past 3500 since the check at 1200");
        assertEquals(300, master.millisBehind(3000, at(1500)), "at 3000: missing only what 4000 added");
        assertEquals(600, master.millisBehind(2000, at(1500)), "past 2000 since the check at 900, not 600");
        assertEquals(1200, master.millisBehind(1999, at(1500)));
        assertEquals(1000, master.bytesBehind(3000));
        assertEquals(3000, master.bytesBehind(1000));
    }

    @Test
    void aPositionOlderThanTheHistoryGetsTheAgeOfTheOldestEntry() {
        PositionHistory master = new PositionHistory(3);
        for (int i = 1; i <= 5; i++) {
            master.record(at(i * 100L), i * 1000L);
        }
        // entries kept: 3000@300, 4000@400, 5000@500
        assertEquals(700, master.millisBehind(500, at(1000)));
        assertEquals(700, master.millisBehind(2999, at(1000)));
        assertEquals(600, master.millisBehind(3000, at(1000)));
    }

    @Test
    void theFirstCheckStartedAfterAnInstantGivesAPositionAtOrAfterEveryEarlierCommit() {
        PositionHistory master = new PositionHistory();
        master.record(at(0), 1000);
        master.record(at(300), 2000);
        master.record(at(600), 2000);
        master.record(at(900), 3000);

        assertEquals(Lsn.UNKNOWN, master.readAfter(at(900)), "no check started after the last one yet");
        assertEquals(3000, master.readAfter(at(899)));
        assertEquals(2000, master.readAfter(at(599)), "the check at 600 read 2000, though 2000 was first read at 300");
        assertEquals(2000, master.readAfter(at(100)));
        assertEquals(1000, master.readAfter(at(-1)));
        master.record(at(1200), 3000);
        assertEquals(3000, master.readAfter(at(900)));
    }

    @Test
    void aPositionGoingBackwardsStartsAFreshHistory() {
        PositionHistory h = new PositionHistory();
        h.record(at(0), 5000);
        h.record(at(300), 6000);
        h.record(at(600), 100); // another server now, or one restored from a backup
        assertEquals(100, h.latest());
        assertEquals(0, h.millisBehind(100, at(700)));
        assertEquals(100, h.readAfter(at(-1)));
    }

    @Test
    void unknownPositionsAreNotRecorded() {
        PositionHistory h = new PositionHistory();
        h.record(at(0), Lsn.UNKNOWN);
        assertEquals(Lsn.UNKNOWN, h.latest());
        assertEquals(Lsn.UNKNOWN, h.readAfter(at(-1)));
    }
}

package dev.understudy.cdc;

/** Where a replica stands in the change stream, as its applier sees it. */
public enum ReplicaState {
    /** Not reached yet since the capture started. */
    CONNECTING,
    /** Receiving a snapshot of the master (schema and rows); it streams from the snapshot's position next. */
    SEEDING,
    /** Applying the stream. */
    STREAMING,
    /** Unreachable; it holds the slot at its position and catches up when it is back. */
    DETACHED,
    /** Dropped from the stream (further behind than the retention): holds no WAL, seeded again when it is back. */
    DROPPED,
    /** Its apply or seed failed (logged); holds no WAL, and is seeded again after a pause. */
    FAILED,
    /** The capture is closed. */
    CLOSED
}

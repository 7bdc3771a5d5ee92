package dev.posthorn.api;

/** Delivery state of a message that was queued with a transaction. */
public enum DeliveryState {
    /** Its transaction has not completed yet, or was prepared and awaits the transaction manager's decision. */
    PENDING(false),
    /** Its transaction committed; the first delivery attempt has not finished yet. */
    QUEUED(false),
    /** A transient failure deferred it; the next attempt is scheduled. */
    DEFERRED(false),
    /** An operator or the uncertain-delivery policy stopped its delivery until it is released. */
    HELD(false),
    /** The server accepted it for every recipient. */
    SENT(true),
    /** The server accepted it for some recipients and permanently rejected the others. */
    PARTIAL(true),
    /** It failed permanently for every recipient, or it can never be sent. */
    FAILED(true),
    /** Its maximum lifetime passed before every recipient accepted it. */
    EXPIRED(true),
    /** An operator deleted it from the spool. */
    DELETED(true);

    private final boolean terminal;

    DeliveryState(boolean terminal) {
        this.terminal = terminal;
    }

    /** Returns whether the message has left the spool and its state can no longer change. */
    public boolean isTerminal() {
        return terminal;
    }
}

package dev.posthorn.samples;

import jakarta.ejb.ApplicationException;

/** A step after storing an order failed. The container rolls the order's transaction back. */
@ApplicationException(rollback = true)
public class OrderFailedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public OrderFailedException(String message) {
        super(message);
    }
}

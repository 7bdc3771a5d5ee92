package dev.posthorn.samples;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.Id;
import jakarta.persistence.NamedQuery;
import jakarta.persistence.Table;

/** An order and the ids of the confirmation mail sent for it. */
@Entity
@Table(name = "SAMPLE_ORDERS")
@NamedQuery(name = Order.FIND_ALL, query = "SELECT o FROM Order o ORDER BY o.id DESC")
public class Order {

    static final String FIND_ALL = "Order.findAll";

    @Id
    @GeneratedValue
    private Long id;

    @Column(nullable = false)
    private String customerEmail;

    @Column(nullable = false)
    private String item;

    private int quantity;

    @Column(nullable = false)
    private Instant placedAt;

    private String confirmationMessageId;

    private String confirmationTrackingId;

    protected Order() {
        // For JPA.
    }

    public Order(String customerEmail, String item, int quantity, Instant placedAt) {
        this.customerEmail = customerEmail;
        this.item = item;
        this.quantity = quantity;
        this.placedAt = placedAt;
    }

    public Long getId() {
        return id;
    }

    public String getCustomerEmail() {
        return customerEmail;
    }

    public String getItem() {
        return item;
    }

    public int getQuantity() {
        return quantity;
    }

    public Instant getPlacedAt() {
        return placedAt;
    }

    /** Returns the Message-ID header of the confirmation, with angle brackets. */
    public String getConfirmationMessageId() {
        return confirmationMessageId;
    }

    /** Returns the id that Posthorn writes to every log line about the confirmation. */
    public String getConfirmationTrackingId() {
        return confirmationTrackingId;
    }

    void recordConfirmation(String messageId, String trackingId) {
        this.confirmationMessageId = messageId;
        this.confirmationTrackingId = trackingId;
    }
}

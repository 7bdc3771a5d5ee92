package dev.posthorn.samples.rest;

import java.net.URI;
import java.util.List;

import dev.posthorn.api.DeliveryStatus;
import dev.posthorn.api.MailException;
import dev.posthorn.samples.Order;
import dev.posthorn.samples.OrderService;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;

/**
 * Places and lists orders.
 *
 * <p>{@code POST /api/orders} stores an order and queues its confirmation in one transaction, which
 * Posthorn delivers after the commit. {@code POST /api/orders/failing} does the same and then fails,
 * so the transaction rolls back and no confirmation is sent.
 */
@Path("orders")
@RequestScoped
@Produces(MediaType.APPLICATION_JSON)
public class OrderResource {

    /** The body of {@code POST /api/orders}. */
    public record OrderRequest(String customerEmail, String item, Integer quantity) {
    }

    /** An order as the API returns it. */
    public record OrderView(long id, String customerEmail, String item, int quantity, String placedAt,
                            String confirmationMessageId, String confirmationTrackingId) {

        static OrderView of(Order order) {
            return new OrderView(order.getId(), order.getCustomerEmail(), order.getItem(), order.getQuantity(),
                    order.getPlacedAt().toString(), order.getConfirmationMessageId(),
                    order.getConfirmationTrackingId());
        }
    }

    @Inject
    private OrderService orders;

    @Context
    private UriInfo uriInfo;

    /** Returns 201 with the order, or an error status from {@link MailExceptionMapper}. */
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Response place(OrderRequest request) throws MailException {
        validate(request);
        Order order = orders.placeOrder(request.customerEmail(), request.item(), request.quantity());
        URI location = uriInfo.getAbsolutePathBuilder().path(String.valueOf(order.getId())).build();
        return Response.created(location).entity(OrderView.of(order)).build();
    }

    /**
     * Places an order that fails after its confirmation was queued. The response is 422 from
     * {@link OrderFailedExceptionMapper}, and neither the order nor the mail survives the rollback.
     */
    @POST
    @Path("failing")
    @Consumes(MediaType.APPLICATION_JSON)
    public void placeThenFail(OrderRequest request) throws MailException {
        validate(request);
        orders.placeOrderThenFail(request.customerEmail(), request.item(), request.quantity());
    }

    @GET
    public List<OrderView> list() {
        return orders.findAll().stream().map(OrderView::of).toList();
    }

    @GET
    @Path("{id}")
    public OrderView get(@PathParam("id") long id) {
        Order order = orders.find(id);
        if (order == null) {
            throw ErrorView.notFound("No order " + id);
        }
        return OrderView.of(order);
    }

    /** The delivery status of an order's confirmation, as {@code GET /api/orders/{id}/confirmation} returns it. */
    public record ConfirmationView(String trackingId, String messageId, String state, int attempts,
                                   String nextAttemptAt, List<String> recipients, String lastError) {

        static ConfirmationView of(DeliveryStatus status) {
            List<String> recipients = status.recipients().stream()
                    .map(r -> r.address() + (r.reply() == null ? "" : ": " + r.reply())).toList();
            return new ConfirmationView(status.trackingId(), status.messageId(), status.state().name(),
                    status.attempts(), status.nextAttemptAt() == null ? null : status.nextAttemptAt().toString(),
                    recipients, status.lastError());
        }
    }

    /** Returns the delivery state of the order's confirmation: QUEUED, DEFERRED, SENT, FAILED and so on. */
    @GET
    @Path("{id}/confirmation")
    public ConfirmationView confirmation(@PathParam("id") long id) throws MailException {
        return orders.confirmationStatus(id).map(ConfirmationView::of)
                .orElseThrow(() -> ErrorView.notFound("No confirmation status for order " + id));
    }

    private static void validate(OrderRequest request) {
        if (request == null) {
            throw ErrorView.badRequest(null, "The request body must be a JSON object with customerEmail, item "
                    + "and quantity");
        }
        if (request.customerEmail() == null || request.customerEmail().isBlank()) {
            throw ErrorView.badRequest("customerEmail", "customerEmail is missing");
        }
        if (request.item() == null || request.item().isBlank()) {
            throw ErrorView.badRequest("item", "item is missing");
        }
        if (request.quantity() == null || request.quantity() < 1) {
            throw ErrorView.badRequest("quantity", "quantity must be 1 or more, was " + request.quantity());
        }
    }
}

package dev.posthorn.samples.rest;

import java.util.List;

import dev.posthorn.api.MailException;
import dev.posthorn.api.RecipientStatus;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.samples.NotificationSender;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/**
 * {@code POST /api/notifications} delivers a message at once, outside any transaction, and returns
 * the server's reply to each recipient.
 */
@Path("notifications")
@RequestScoped
@Produces(MediaType.APPLICATION_JSON)
public class NotificationResource {

    /** The body of {@code POST /api/notifications}. */
    public record NotificationRequest(List<String> to, String subject, String text) {
    }

    /** One recipient's result: {@code reply} is the SMTP server's reply, such as {@code 250 OK}. */
    public record RecipientView(String address, boolean accepted, String reply) {

        static RecipientView of(RecipientStatus status) {
            return new RecipientView(status.address(), status.accepted(),
                    status.reply() == null ? null : status.reply().toString());
        }
    }

    /** The delivery receipt: outcome {@code DELIVERED}, or {@code PARTIAL} if some recipients were rejected. */
    public record ReceiptView(String messageId, String trackingId, String outcome, List<RecipientView> recipients) {

        static ReceiptView of(SendReceipt receipt) {
            return new ReceiptView(receipt.messageId(), receipt.trackingId(), receipt.outcome().name(),
                    receipt.recipients().stream().map(RecipientView::of).toList());
        }
    }

    @Inject
    private NotificationSender sender;

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public ReceiptView send(NotificationRequest request) throws MailException {
        if (request == null || request.subject() == null || request.text() == null) {
            throw ErrorView.badRequest(null, "The request body must be a JSON object with to (a list of "
                    + "addresses), subject and text");
        }
        return ReceiptView.of(sender.send(request.to(), request.subject(), request.text()));
    }
}

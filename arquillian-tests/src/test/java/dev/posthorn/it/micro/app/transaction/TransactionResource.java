package dev.posthorn.it.micro.app.transaction;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import dev.posthorn.api.DeliveryStatus;
import dev.posthorn.api.MailException;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.it.micro.app.MessageRequest;
import dev.posthorn.it.micro.app.Reply;
import jakarta.ejb.EJBException;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.mail.MessagingException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;

/**
 * Endpoints that run {@link OrderBean} and report the receipt, the transaction's outcome and the
 * wall-clock times (epoch milliseconds) that the tests compare with the SMTP server's records. The form
 * field {@code pool} chooses the factory: {@code prompt}, {@code slow} or {@code billing}. This resource
 * itself runs without a transaction.
 */
@Path("transaction")
@RequestScoped
public class TransactionResource {

    @Inject
    OrderBean orders;

    @Inject
    TransactionOutcomes outcomes;

    @Inject
    DeliveryObserver observer;

    /** Sends and commits. The field {@code holdMillis} keeps the transaction open after the send. */
    @POST
    @Path("commit")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Produces(MediaType.TEXT_PLAIN)
    public Response commit(MultivaluedMap<String, String> form) throws MessagingException, InterruptedException {
        long holdMillis = Long.parseLong(form.getFirst("holdMillis"));
        long calledAt = System.currentTimeMillis();
        try {
            OrderBean.InTransaction result = orders.sendAndCommit(form.getFirst("pool"), MessageRequest.of(form),
                    holdMillis);
            long returnedAt = System.currentTimeMillis();
            return Response.ok(withOutcome(Reply.of(result.receipt()), result.receipt().messageId())
                    .with("calledAtMillis", calledAt)
                    .with("lastMomentInTransactionMillis", result.lastMomentInTransactionMillis())
                    .with("returnedAtMillis", returnedAt)
                    .text()).build();
        } catch (MailException e) {
            return Response.serverError().entity(Reply.of(e).text()).build();
        }
    }

    /** Sends and throws. The reply names the exception that the caller saw. */
    @POST
    @Path("throw")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Produces(MediaType.TEXT_PLAIN)
    public Response sendAndThrow(MultivaluedMap<String, String> form) throws MessagingException {
        MessageRequest request = MessageRequest.of(form);
        try {
            orders.sendAndThrow(form.getFirst("pool"), request);
            return Response.serverError().entity("sendAndThrow returned normally").build();
        } catch (EJBException e) {
            return Response.ok(withOutcome(new Reply(), request.messageId())
                    .with("callerSaw", e.getClass().getName())
                    .text()).build();
        } catch (MailException e) {
            return Response.serverError().entity(Reply.of(e).text()).build();
        }
    }

    /** Sends and marks the transaction for rollback. */
    @POST
    @Path("rollback-only")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Produces(MediaType.TEXT_PLAIN)
    public Response sendAndSetRollbackOnly(MultivaluedMap<String, String> form) throws MessagingException {
        try {
            SendReceipt receipt = orders.sendAndSetRollbackOnly(form.getFirst("pool"), MessageRequest.of(form));
            return Response.ok(withOutcome(Reply.of(receipt), receipt.messageId()).text()).build();
        } catch (MailException e) {
            return Response.serverError().entity(Reply.of(e).text()).build();
        }
    }

    /**
     * Sends one message per entry of the comma-separated field {@code pools} in a single transaction.
     * Message {@code i} gets the Message-ID {@code <several-i-runId@posthorn.test>}. With
     * {@code rollbackOnly=true} the transaction is marked for rollback instead of committed.
     */
    @POST
    @Path("several")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Produces(MediaType.TEXT_PLAIN)
    public Response sendSeveral(MultivaluedMap<String, String> form) throws MessagingException {
        List<String> pools = List.of(form.getFirst("pools").split(","));
        MessageRequest template = MessageRequest.of(form);
        List<MessageRequest> requests = new ArrayList<>();
        for (int i = 0; i < pools.size(); i++) {
            requests.add(template.withSubjectAndId("several " + i, severalMessageId(form.getFirst("runId"), i)));
        }
        try {
            List<SendReceipt> receipts = orders.sendSeveral(pools, requests,
                    Boolean.parseBoolean(form.getFirst("rollbackOnly")));
            Reply reply = withOutcome(new Reply(), receipts.get(0).messageId());
            for (int i = 0; i < receipts.size(); i++) {
                reply.with("outcome." + i, receipts.get(i).outcome());
                reply.with("messageId." + i, receipts.get(i).messageId());
            }
            return Response.ok(reply.text()).build();
        } catch (MailException e) {
            return Response.serverError().entity(Reply.of(e).text()).build();
        }
    }

    /** Returns the delivery events this application observed for a message, one per line. */
    @GET
    @Path("events/{trackingId}")
    @Produces(MediaType.TEXT_PLAIN)
    public String events(@PathParam("trackingId") String trackingId) {
        return String.join("\n", observer.eventsOf(trackingId));
    }

    /** Returns the factory's status of a message: state, attempts and the first recipient's reply. */
    @GET
    @Path("status/{pool}/{trackingId}")
    @Produces(MediaType.TEXT_PLAIN)
    public Response status(@PathParam("pool") String pool, @PathParam("trackingId") String trackingId)
            throws MailException {
        Optional<DeliveryStatus> status = orders.factory(pool).findStatus(trackingId);
        if (status.isEmpty()) {
            return Response.status(Response.Status.NOT_FOUND).entity("unknown " + trackingId).build();
        }
        DeliveryStatus found = status.get();
        return Response.ok(new Reply().with("state", found.state()).with("attempts", found.attempts())
                .with("reply", found.recipients().get(0).reply()).text()).build();
    }

    /** Returns the attributes of the factory's mail queue MBean, read from the platform MBean server. */
    @GET
    @Path("queue/{name}")
    @Produces(MediaType.TEXT_PLAIN)
    public String queue(@PathParam("name") String factoryName) throws JMException {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = new ObjectName("dev.posthorn:type=MailQueue,name=" + ObjectName.quote(factoryName));
        Reply reply = new Reply();
        for (String attribute : List.of("QueueDepth", "SentCount", "DeferredCount", "FailedCount", "SpoolDirectory")) {
            reply.with(attribute, server.getAttribute(name, attribute));
        }
        return reply.text();
    }

    /** Returns the Message-ID of message {@code index} of {@link #sendSeveral}, which the test computes too. */
    public static String severalMessageId(String runId, int index) {
        return "<several-" + index + "-" + runId + "@posthorn.test>";
    }

    private Reply withOutcome(Reply reply, String messageId) {
        TransactionOutcomes.Outcome outcome = outcomes.outcomeOf(messageId);
        if (outcome == null) {
            return reply.with("transaction", "NOT_COMPLETED");
        }
        return reply.with("transaction", outcome.statusName())
                .with("completedAtMillis", outcome.completedAtMillis());
    }
}

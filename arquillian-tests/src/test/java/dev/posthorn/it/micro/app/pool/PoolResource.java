package dev.posthorn.it.micro.app.pool;

import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

import dev.posthorn.api.MailException;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.it.micro.app.MessageRequest;
import dev.posthorn.it.micro.app.Reply;
import jakarta.annotation.Resource;
import jakarta.enterprise.concurrent.ManagedThreadFactory;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.mail.MessagingException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;

/** Endpoints for the pool tests. The form field {@code pool} names the pool (see {@link PoolMailer}). */
@Path("pool")
@RequestScoped
public class PoolResource {

    @Inject
    PoolMailer mailer;

    @Inject
    TransactionalMailBean transactionalMailer;

    @Resource(lookup = "java:comp/DefaultManagedThreadFactory")
    ManagedThreadFactory threadFactory;

    /** Sends one message synchronously. */
    @POST
    @Path("send")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Produces(MediaType.TEXT_PLAIN)
    public Response send(MultivaluedMap<String, String> form) throws MessagingException {
        try {
            return Response.ok(Reply.of(mailer.send(form.getFirst("pool"), MessageRequest.of(form))).text()).build();
        } catch (MailException e) {
            return Response.serverError().entity(Reply.of(e).text()).build();
        }
    }

    /**
     * Sends {@code messages} messages from {@code callers} concurrent threads. Message {@code i} gets the
     * subject "bulk i" and the Message-ID {@code <bulk-i-runId@posthorn.test>}. With
     * {@code transactional=true} each message is sent in its own container-managed transaction.
     */
    @POST
    @Path("bulk")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Produces(MediaType.TEXT_PLAIN)
    public Response bulk(MultivaluedMap<String, String> form)
            throws InterruptedException, ExecutionException, TimeoutException {
        int callers = Integer.parseInt(form.getFirst("callers"));
        int messages = Integer.parseInt(form.getFirst("messages"));
        String pool = form.getFirst("pool");
        BulkRun run = Boolean.parseBoolean(form.getFirst("transactional"))
                ? new BulkRun(request -> transactionalMailer.send(pool, request), SendReceipt.Outcome.QUEUED,
                        MessageRequest.of(form), form.getFirst("runId"))
                : new BulkRun(request -> mailer.send(pool, request), SendReceipt.Outcome.DELIVERED,
                        MessageRequest.of(form), form.getFirst("runId"));
        long started = System.nanoTime();
        run.run(threadFactory, callers, messages);
        long elapsedMillis = (System.nanoTime() - started) / 1_000_000;
        List<String> failures = run.failures();
        return Response.ok(new Reply()
                .with("succeeded", run.succeeded())
                .with("failed", failures.size())
                .with("firstFailures", failures.subList(0, Math.min(5, failures.size())))
                .with("maxConcurrentSends", run.maxConcurrentSends())
                .with("elapsedMillis", elapsedMillis)
                .text()).build();
    }
}

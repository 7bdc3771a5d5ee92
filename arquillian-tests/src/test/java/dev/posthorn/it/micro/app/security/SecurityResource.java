package dev.posthorn.it.micro.app.security;

import java.util.List;
import java.util.stream.Collectors;

import dev.posthorn.api.AccessTokenProvider;
import dev.posthorn.api.MailException;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.it.micro.app.MessageRequest;
import dev.posthorn.it.micro.app.Reply;
import jakarta.enterprise.context.RequestScoped;
import jakarta.enterprise.inject.spi.BeanManager;
import jakarta.inject.Inject;
import jakarta.mail.MessagingException;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;

/** Endpoints for the security tests. The form field {@code pool} names the pool (see {@link SecurityMailer}). */
@Path("security")
@RequestScoped
public class SecurityResource {

    @Inject
    SecurityMailer mailer;

    @Inject
    TransactionalSecurityBean transactionalMailer;

    @Inject
    RotatingTokenProvider tokens;

    @Inject
    BeanManager beans;

    /**
     * Sends one message: synchronously, or with {@code transactional=true} inside a container-managed
     * transaction, which queues it for delivery after the commit.
     */
    @POST
    @Path("send")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Produces(MediaType.TEXT_PLAIN)
    public Response send(MultivaluedMap<String, String> form) throws MessagingException {
        String pool = form.getFirst("pool");
        MessageRequest request = MessageRequest.of(form);
        try {
            SendReceipt receipt = Boolean.parseBoolean(form.getFirst("transactional"))
                    ? transactionalMailer.send(pool, request)
                    : mailer.send(pool, request);
            return Response.ok(Reply.of(receipt).text()).build();
        } catch (MailException e) {
            return Response.serverError().entity(Reply.of(e).text()).build();
        }
    }

    /**
     * Returns the tokens issued to the form's {@code username}, comma-separated, by the provider that the
     * form's {@code provider} names: {@code cdi} for {@link RotatingTokenProvider} or
     * {@code service-loader} for {@link ServiceLoadedTokenProvider}.
     */
    @POST
    @Path("tokens")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Produces(MediaType.TEXT_PLAIN)
    public Response tokens(MultivaluedMap<String, String> form) {
        String username = form.getFirst("username");
        List<String> issued = switch (form.getFirst("provider")) {
            case "cdi" -> tokens.issuedTo(username);
            case "service-loader" -> ServiceLoadedTokenProvider.issuedTo(username);
            default -> throw new BadRequestException("Invalid provider '" + form.getFirst("provider")
                    + "': use cdi or service-loader");
        };
        return Response.ok(new Reply().with("tokens", String.join(",", issued)).text()).build();
    }

    /**
     * Returns the bean classes of the {@code AccessTokenProvider} beans that the application's own bean
     * manager resolves, comma-separated. A test uses it to tell a provider missing from the application
     * apart from one that the adapter failed to register.
     */
    @POST
    @Path("providers")
    @Produces(MediaType.TEXT_PLAIN)
    public Response providers() {
        String beanClasses = beans.getBeans(AccessTokenProvider.class).stream()
                .map(bean -> bean.getBeanClass().getName())
                .sorted()
                .collect(Collectors.joining(","));
        return Response.ok(new Reply().with("beanClasses", beanClasses).text()).build();
    }
}

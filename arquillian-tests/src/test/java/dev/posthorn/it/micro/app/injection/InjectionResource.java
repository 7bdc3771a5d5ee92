package dev.posthorn.it.micro.app.injection;

import dev.posthorn.api.MailException;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.it.micro.app.MessageRequest;
import dev.posthorn.it.micro.app.Reply;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Inject;
import jakarta.mail.MessagingException;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;

/**
 * {@code POST /api/injection/{via}} sends the form's message through the chosen kind of injection:
 * {@code ejb-inject}, {@code cdi-inject}, {@code cdi-qualified} or {@code ejb-resource}.
 */
@Path("injection")
@RequestScoped
public class InjectionResource {

    @Inject
    InjectedMailBean injectedBean;
    @Inject
    InjectedMailer injectedMailer;
    @Inject
    QualifiedMailer qualifiedMailer;
    @Inject
    ResourceMailBean resourceBean;

    @POST
    @Path("{via}")
    @Consumes(MediaType.APPLICATION_FORM_URLENCODED)
    @Produces(MediaType.TEXT_PLAIN)
    public Response send(@PathParam("via") String via, MultivaluedMap<String, String> form)
            throws MessagingException {
        MessageRequest request = MessageRequest.of(form);
        try {
            SendReceipt receipt = switch (via) {
                case "ejb-inject" -> injectedBean.send(request);
                case "cdi-inject" -> injectedMailer.send(request);
                case "cdi-qualified" -> qualifiedMailer.send(request);
                case "ejb-resource" -> resourceBean.send(request);
                default -> throw new NotFoundException("Invalid injection kind '" + via + "': use ejb-inject, "
                        + "cdi-inject, cdi-qualified or ejb-resource");
            };
            return Response.ok(Reply.of(receipt).text()).build();
        } catch (MailException e) {
            return Response.serverError().entity(Reply.of(e).text()).build();
        }
    }
}

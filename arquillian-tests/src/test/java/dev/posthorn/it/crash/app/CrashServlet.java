package dev.posthorn.it.crash.app;

import java.io.IOException;
import java.util.Locale;

import javax.naming.InitialContext;

import dev.posthorn.api.MailConnection;
import dev.posthorn.api.MailConnectionFactory;
import dev.posthorn.api.SendReceipt;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.transaction.TransactionManager;
import jakarta.transaction.UserTransaction;

/**
 * Sends one message through the server-level Posthorn resource {@value #RESOURCE} inside a JTA transaction
 * that also holds a {@link BlockingXAResource}, and commits. The request parameters choose the enlistment
 * order ({@code order=test-first|mail-first}) and where the test resource blocks
 * ({@code block=none|prepare|commit}, {@code blockSeconds}); a blocked request does not return, which is
 * the point: the test kills the server meanwhile. {@code resource} names another connector resource. The
 * reply is {@link java.util.Properties} text.
 */
@WebServlet("/tx")
public class CrashServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    /** JNDI name of the connector resource that the harness's command file creates. */
    public static final String RESOURCE = "mail/crash";
    static final String TRANSACTION_MANAGER = "java:appserver/TransactionManager";
    static final String USER_TRANSACTION = "java:comp/UserTransaction";

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String order = parameter(request, "order", "test-first");
        BlockingXAResource.BlockAt blockAt = BlockingXAResource.BlockAt.valueOf(
                parameter(request, "block", "none").toUpperCase(Locale.ROOT));
        long blockMillis = Long.parseLong(parameter(request, "blockSeconds", "600")) * 1000;
        StringBuilder reply = new StringBuilder();
        try {
            InitialContext naming = new InitialContext();
            TransactionManager tm = (TransactionManager) naming.lookup(TRANSACTION_MANAGER);
            UserTransaction transaction = (UserTransaction) naming.lookup(USER_TRANSACTION);
            MailConnectionFactory factory = (MailConnectionFactory) naming.lookup(parameter(request, "resource", RESOURCE));
            BlockingXAResource testResource = new BlockingXAResource(blockAt, blockMillis);
            transaction.begin();
            try {
                if ("test-first".equals(order)) {
                    tm.getTransaction().enlistResource(testResource);
                }
                SendReceipt receipt;
                try (MailConnection connection = factory.getConnection()) {
                    receipt = connection.send(message(request));
                }
                if (!"test-first".equals(order)) {
                    tm.getTransaction().enlistResource(testResource);
                }
                reply.append("transaction=").append(tm.getTransaction()).append('\n');
                reply.append("messageId=").append(receipt.messageId()).append('\n');
            } catch (Exception e) {
                transaction.rollback();
                throw e;
            }
            transaction.commit();
            reply.append("outcome=COMMITTED\n");
        } catch (Exception e) {
            reply.append("outcome=FAILED\nerror=").append(e).append('\n');
            response.setStatus(HttpServletResponse.SC_INTERNAL_SERVER_ERROR);
        }
        response.setContentType("text/plain;charset=UTF-8");
        response.getWriter().write(reply.toString());
    }

    private static MimeMessage message(HttpServletRequest request) throws MessagingException {
        MimeMessage message = new MimeMessage((Session) null);
        message.setFrom(new InternetAddress("crash@posthorn.test"));
        message.setRecipient(Message.RecipientType.TO, new InternetAddress(parameter(request, "to", "crash@example.org")));
        message.setSubject("Crash test");
        message.setText("Sent inside a transaction that a crash test interrupts.");
        String messageId = request.getParameter("messageId");
        if (messageId != null) {
            message.setHeader("Message-ID", messageId);
        }
        return message;
    }

    private static String parameter(HttpServletRequest request, String name, String fallback) {
        String value = request.getParameter(name);
        return value == null || value.isBlank() ? fallback : value;
    }
}

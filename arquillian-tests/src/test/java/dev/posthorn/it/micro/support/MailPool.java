package dev.posthorn.it.micro.support;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One connector connection pool on the posthorn resource adapter plus the connector resource that
 * publishes it, written into the test application's {@code WEB-INF/glassfish-resources.xml}.
 *
 * <p>Every pool talks clear-text SMTP to a server on 127.0.0.1 and is enlisted in JTA transactions
 * (XATransaction). Names are application-scoped, so each deployment gets its own pools.
 */
public final class MailPool {

    /** The adapter's module name: posthorn.rar deployed on its own. */
    static final String RESOURCE_ADAPTER = "posthorn";
    static final String CONNECTION_DEFINITION = "dev.posthorn.api.MailConnectionFactory";

    private final String jndiName;
    private final Map<String, String> properties = new LinkedHashMap<>();
    private int steadyPoolSize = 0;
    private int maxPoolSize = 8;
    private int poolResizeQuantity = 1;
    private long maxWaitMillis = 30_000;

    private MailPool(String jndiName, int port) {
        this.jndiName = jndiName;
        property("host", "127.0.0.1");
        property("port", port);
        property("transportSecurity", "PLAIN");
        // A fixed EHLO name spares the adapter a host name lookup and makes transcripts predictable.
        property("ehloName", "posthorn.test");
        property("connectTimeoutMillis", 5_000);
        property("readTimeoutMillis", 15_000);
        property("writeTimeoutMillis", 15_000);
        property("name", jndiName);
    }

    /**
     * Starts a pool definition for the SMTP server on 127.0.0.1 at {@code port}.
     *
     * @param jndiName the connector resource's JNDI name, which must start with {@code java:app/}
     */
    public static MailPool at(String jndiName, int port) {
        if (!jndiName.startsWith("java:app/")) {
            throw new IllegalArgumentException("Application-scoped resource names start with java:app/: " + jndiName);
        }
        return new MailPool(jndiName, port);
    }

    /** Sets a property of the adapter's connection definition, such as {@code fromAddress}. */
    public MailPool property(String name, Object value) {
        properties.put(name, String.valueOf(value));
        return this;
    }

    public MailPool steadyPoolSize(int size) {
        this.steadyPoolSize = size;
        return this;
    }

    public MailPool maxPoolSize(int size) {
        this.maxPoolSize = size;
        return this;
    }

    public MailPool poolResizeQuantity(int quantity) {
        this.poolResizeQuantity = quantity;
        return this;
    }

    public MailPool maxWaitMillis(long millis) {
        this.maxWaitMillis = millis;
        return this;
    }

    public String jndiName() {
        return jndiName;
    }

    String poolName() {
        return "java:app/pools/" + jndiName.substring("java:app/".length()).replace('/', '-');
    }

    /** Returns the pool and resource elements for glassfish-resources.xml. */
    String toXml() {
        StringBuilder xml = new StringBuilder();
        xml.append("  <connector-connection-pool")
                .append(attribute("name", poolName()))
                .append(attribute("resource-adapter-name", RESOURCE_ADAPTER))
                .append(attribute("connection-definition-name", CONNECTION_DEFINITION))
                .append(attribute("transaction-support", "XATransaction"))
                .append(attribute("steady-pool-size", steadyPoolSize))
                .append(attribute("max-pool-size", maxPoolSize))
                .append(attribute("pool-resize-quantity", poolResizeQuantity))
                .append(attribute("max-wait-time-in-millis", maxWaitMillis))
                .append(">\n");
        for (Map.Entry<String, String> property : properties.entrySet()) {
            xml.append("    <property")
                    .append(attribute("name", property.getKey()))
                    .append(attribute("value", property.getValue()))
                    .append("/>\n");
        }
        xml.append("  </connector-connection-pool>\n");
        xml.append("  <connector-resource")
                .append(attribute("jndi-name", jndiName))
                .append(attribute("pool-name", poolName()))
                .append("/>\n");
        return xml.toString();
    }

    private static String attribute(String name, Object value) {
        String escaped = String.valueOf(value)
                .replace("&", "&amp;")
                .replace("<", "&lt;")
                .replace(">", "&gt;")
                .replace("\"", "&quot;");
        return " " + name + "=\"" + escaped + "\"";
    }
}

package dev.posthorn.cdi;

import java.lang.annotation.Annotation;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.naming.InitialContext;
import javax.naming.NameNotFoundException;
import javax.naming.NamingException;

import dev.posthorn.api.AccessTokenProvider;
import dev.posthorn.api.MailDeliveryEvent;
import dev.posthorn.api.MailConnectionFactory;
import dev.posthorn.api.MailFactory;
import dev.posthorn.delivery.DeliveryEvents;
import dev.posthorn.smtp.AccessTokens;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.CreationException;
import jakarta.enterprise.inject.Default;
import jakarta.enterprise.inject.spi.AfterBeanDiscovery;
import jakarta.enterprise.inject.spi.AfterDeploymentValidation;
import jakarta.enterprise.inject.spi.Bean;
import jakarta.enterprise.inject.spi.BeanManager;
import jakarta.enterprise.inject.spi.BeforeShutdown;
import jakarta.enterprise.inject.spi.Extension;
import jakarta.enterprise.inject.spi.InjectionPoint;
import jakarta.enterprise.inject.spi.ProcessBean;
import jakarta.enterprise.inject.spi.ProcessInjectionPoint;

/**
 * Makes {@code @Inject MailConnectionFactory} work without a producer in the application: it adds one
 * bean for the default factory and one for each {@link MailFactory} name found at an injection point,
 * each looking up the connection factory resource in JNDI.
 *
 * <p>A resource adapter's own beans are not visible to separately deployed applications, so the
 * application registers this extension by bundling the {@code posthorn-adapter} jar with classifier
 * {@code cdi}. A bean the application defines itself for the same qualifier takes precedence. In the
 * other direction the extension hands the application's {@code AccessTokenProvider} beans to the adapter,
 * routes delivery events of the application's queued mail to its observers, and looks up its factories
 * once at deployment, so that mail an earlier run left in their spools is delivered without waiting for
 * the application's first use.
 */
public class PosthornExtension implements Extension {

    private static final Logger LOG = Logger.getLogger(PosthornExtension.class.getName());
    private static final String NOT_FOUND = "No Posthorn MailConnectionFactory found";

    private final Set<String> requestedNames = ConcurrentHashMap.newKeySet();
    private final Set<String> namesDefinedByApplication = ConcurrentHashMap.newKeySet();
    private final Map<String, MailConnectionFactory> factories = new ConcurrentHashMap<>();
    private final Set<Bean<?>> tokenProviderBeans = ConcurrentHashMap.newKeySet();
    private final Map<String, AccessTokenProvider> tokenProviders = new ConcurrentHashMap<>();
    private volatile boolean defaultDefinedByApplication;
    private volatile String eventApplication;

    void collectInjectionPoints(@Observes ProcessInjectionPoint<?, ?> event) {
        InjectionPoint point = event.getInjectionPoint();
        if (point.getType() == MailConnectionFactory.class) {
            for (Annotation qualifier : point.getQualifiers()) {
                if (qualifier instanceof MailFactory named) {
                    requestedNames.add(named.value());
                }
            }
        }
    }

    void collectApplicationBeans(@Observes ProcessBean<?> event) {
        if (event.getBean().getTypes().contains(AccessTokenProvider.class)) {
            tokenProviderBeans.add(event.getBean());
        }
        if (!event.getBean().getTypes().contains(MailConnectionFactory.class)) {
            return;
        }
        for (Annotation qualifier : event.getBean().getQualifiers()) {
            if (qualifier instanceof MailFactory named) {
                namesDefinedByApplication.add(named.value());
            } else if (qualifier.annotationType() == Default.class) {
                defaultDefinedByApplication = true;
            }
        }
    }

    /**
     * Registers the application's access token providers, which the adapter cannot see otherwise. The beans
     * come from {@link ProcessBean} because a bean manager handed to an extension loaded from the adapter
     * does not resolve the application's beans by type.
     */
    void registerTokenProviders(@Observes AfterDeploymentValidation event, BeanManager beans) {
        for (Bean<?> bean : tokenProviderBeans) {
            AccessTokenProvider provider = (AccessTokenProvider) beans.getReference(bean, AccessTokenProvider.class,
                    beans.createCreationalContext(bean));
            String className = bean.getBeanClass().getName();
            AccessTokens.register(className, provider);
            tokenProviders.put(className, provider);
            LOG.log(Level.FINE, "Posthorn: access token provider {0} registered", className);
        }
    }

    void unregisterTokenProviders(@Observes BeforeShutdown event) {
        tokenProviders.forEach(AccessTokens::unregister);
        tokenProviders.clear();
    }

    /** Routes delivery events of mail this application queued to its observers. */
    void registerEventSink(@Observes AfterDeploymentValidation event, BeanManager beans) {
        String application = applicationName();
        if (application == null) {
            LOG.log(Level.FINE, "Posthorn: no application name found; delivery events are not fired");
            return;
        }
        ClassLoader classLoader = Thread.currentThread().getContextClassLoader();
        // One Event for the application's lifetime: a new one per delivery resolved the observers again each
        // time, which took 12 % of the delivery threads' samples in a profile on Payara Micro.
        Event<MailDeliveryEvent> events = beans.getEvent().select(MailDeliveryEvent.class);
        DeliveryEvents.register(application, classLoader, events::fire);
        eventApplication = application;
    }

    void unregisterEventSink(@Observes BeforeShutdown event) {
        if (eventApplication != null) {
            DeliveryEvents.unregister(eventApplication);
            eventApplication = null;
        }
    }

    /**
     * Looks up the factories this application injects, so their spools open and resume delivery now. A
     * factory that cannot be looked up yet is skipped: its first injection reports the problem.
     */
    void openFactories(@Observes AfterDeploymentValidation event) {
        Set<String> names = new java.util.HashSet<>(requestedNames);
        names.add(MailConnectionFactory.DEFAULT_JNDI_NAME);
        for (String name : names) {
            try {
                factory(name);
            } catch (RuntimeException e) {
                // Not bound is normal for a name the application does not use; anything else is a broken pool.
                boolean notBound = e.getMessage() != null && e.getMessage().startsWith(NOT_FOUND);
                LOG.log(notBound ? Level.FINE : Level.WARNING, "Posthorn: the mail connection factory {0} could "
                        + "not be opened at deployment: {1}", new Object[] {name, rootMessage(e)});
            }
        }
    }

    private static String applicationName() {
        try {
            return (String) new InitialContext().lookup("java:app/AppName");
        } catch (NamingException | ClassCastException e) {
            return null;
        }
    }

    void addFactoryBeans(@Observes AfterBeanDiscovery event) {
        if (!defaultDefinedByApplication) {
            addBean(event, MailConnectionFactory.DEFAULT_JNDI_NAME, Default.Literal.INSTANCE);
        }
        for (String name : requestedNames) {
            if (!namesDefinedByApplication.contains(name)) {
                addBean(event, name, new MailFactory.Literal(name));
            }
        }
    }

    private void addBean(AfterBeanDiscovery event, String jndiName, Annotation qualifier) {
        event.addBean()
                .beanClass(PosthornExtension.class)
                .types(MailConnectionFactory.class, Object.class)
                .qualifiers(qualifier, Any.Literal.INSTANCE)
                .scope(Dependent.class)
                .createWith(context -> factory(jndiName));
        LOG.log(Level.FINE, "Posthorn: MailConnectionFactory bean added for JNDI name {0}", jndiName);
    }

    private MailConnectionFactory factory(String jndiName) {
        return factories.computeIfAbsent(jndiName, PosthornExtension::lookup);
    }

    /** Returns whether the lookup failed only because the name is not bound; servers wrap that cause. */
    private static boolean isNotFound(NamingException e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof NameNotFoundException) {
                return true;
            }
        }
        return false;
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getName() : root.getMessage();
    }

    /** Looks the name up as given, or under java:app/ first and then globally when it has no scheme. */
    static MailConnectionFactory lookup(String jndiName) {
        String[] candidates = jndiName.startsWith("java:") ? new String[] {jndiName}
                : new String[] {"java:app/" + jndiName, jndiName};
        NamingException last = null;
        for (String candidate : candidates) {
            try {
                Object found = new InitialContext().lookup(candidate);
                if (found instanceof MailConnectionFactory factory) {
                    return factory;
                }
                throw new CreationException("JNDI name '" + candidate + "' contains " + found.getClass().getName()
                        + ", not a Posthorn MailConnectionFactory: check the resource's connection definition");
            } catch (NamingException e) {
                if (isNotFound(e)) {
                    last = e;
                    continue;
                }
                // The resource exists but its factory could not be created, usually because of its configuration.
                throw new CreationException("The Posthorn MailConnectionFactory at '" + candidate
                        + "' could not be created: " + rootMessage(e), e);
            }
        }
        throw new CreationException(NOT_FOUND + " at '" + String.join("' or '", candidates)
                + "': create a connector resource with that JNDI name on the posthorn resource adapter, or "
                + "qualify the injection point with @MailFactory(\"<jndi name>\"). If the resource exists, its "
                + "pool could not be created: look for \"Invalid Posthorn property\" in the server log", last);
    }
}

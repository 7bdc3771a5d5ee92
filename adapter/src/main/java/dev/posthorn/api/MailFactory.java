package dev.posthorn.api;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import jakarta.enterprise.util.AnnotationLiteral;
import jakarta.inject.Qualifier;

/**
 * Qualifier that selects a connection factory by JNDI name:
 * {@code @Inject @MailFactory("mail/orders") MailConnectionFactory orders;}.
 *
 * <p>The name is looked up as given; a name without a {@code java:} prefix is tried under
 * {@code java:app/} first and then as a global name. Without this qualifier the factory at
 * {@link MailConnectionFactory#DEFAULT_JNDI_NAME} is injected. The application must bundle the
 * {@code posthorn-adapter} jar with classifier {@code cdi}, which registers the CDI extension.
 */
@Qualifier
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.METHOD, ElementType.PARAMETER, ElementType.TYPE})
public @interface MailFactory {

    /** The JNDI name of the connection factory resource. */
    String value();

    /** Instance of the qualifier, for programmatic lookup with {@code Instance.select}. */
    final class Literal extends AnnotationLiteral<MailFactory> implements MailFactory {

        private static final long serialVersionUID = 1L;

        private final String value;

        public Literal(String value) {
            this.value = value;
        }

        @Override
        public String value() {
            return value;
        }
    }
}

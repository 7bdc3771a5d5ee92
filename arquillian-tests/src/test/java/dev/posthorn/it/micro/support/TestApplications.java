package dev.posthorn.it.micro.support;

import java.io.File;

import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.asset.EmptyAsset;
import org.jboss.shrinkwrap.api.asset.StringAsset;
import org.jboss.shrinkwrap.api.spec.WebArchive;

import dev.posthorn.it.micro.app.TestRestApplication;

/**
 * Builds the WAR that a test class deploys next to posthorn.rar: the shared REST classes, the test's own
 * application package, the pools in {@code WEB-INF/glassfish-resources.xml} and the posthorn-adapter
 * jar with classifier {@code cdi}, which registers the CDI extension behind {@code @Inject
 * MailConnectionFactory}. The adapter's classes themselves come from the RAR and are not bundled.
 */
public final class TestApplications {

    /** Set by the build to the posthorn-adapter jar with classifier cdi. */
    private static final String CDI_JAR_PROPERTY = "posthorn.cdi.jar";

    private TestApplications() {
    }

    public static WebArchive war(String name, Package applicationPackage, MailPool... pools) {
        return ShrinkWrap.create(WebArchive.class, name + ".war")
                .addPackage(TestRestApplication.class.getPackage())
                .addPackage(applicationPackage)
                .addAsLibrary(cdiJar(), "posthorn-cdi.jar")
                .addAsWebInfResource(EmptyAsset.INSTANCE, "beans.xml")
                .addAsWebInfResource(new StringAsset(glassfishResources(pools)), "glassfish-resources.xml");
    }

    static String glassfishResources(MailPool... pools) {
        StringBuilder xml = new StringBuilder()
                .append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
                .append("<!DOCTYPE resources PUBLIC \"-//GlassFish.org//DTD GlassFish Application Server 3.1 ")
                .append("Resource Definitions//EN\" \"http://glassfish.org/dtds/glassfish-resources_1_5.dtd\">\n")
                .append("<resources>\n");
        for (MailPool pool : pools) {
            xml.append(pool.toXml());
        }
        return xml.append("</resources>\n").toString();
    }

    private static File cdiJar() {
        String path = System.getProperty(CDI_JAR_PROPERTY);
        if (path == null) {
            throw new IllegalStateException("System property " + CDI_JAR_PROPERTY + " is not set: run the tests "
                    + "through Maven (mvn verify), which copies the posthorn-adapter cdi jar and sets it");
        }
        File jar = new File(path);
        if (!jar.isFile()) {
            throw new IllegalStateException(CDI_JAR_PROPERTY + " names a missing file: " + jar
                    + "; build the adapter first (mvn -pl adapter install)");
        }
        return jar;
    }
}

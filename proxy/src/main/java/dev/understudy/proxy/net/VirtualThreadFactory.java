package dev.understudy.proxy.net;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.Executor;

/**
 * Virtual threads with a scheduler of our choosing. The JDK (21 to 25) has no public API for it;
 * it has a constructor of its virtual thread builder that takes the scheduler, used by its own
 * tests, reachable when {@code java.base/java.lang} is opened to us ({@code Add-Opens} in the
 * jar's manifest, {@code --add-opens java.base/java.lang=ALL-UNNAMED} otherwise). Without it,
 * {@link #open()} refuses and sessions run on the JDK's default scheduler.
 */
final class VirtualThreadFactory {

    private final MethodHandle constructor;

    private VirtualThreadFactory(MethodHandle constructor) {
        this.constructor = constructor;
    }

    /**
     * The factory.
     *
     * @throws UnsupportedOperationException saying why, when this JDK does not let us
     */
    static VirtualThreadFactory open() {
        try {
            Class<?> builder = Class.forName("java.lang.ThreadBuilders$VirtualThreadBuilder");
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(builder, MethodHandles.lookup());
            MethodHandle constructor = lookup.findConstructor(builder, MethodType.methodType(void.class, Executor.class));
            VirtualThreadFactory factory = new VirtualThreadFactory(constructor);
            factory.builder(Runnable::run); // fails here if the JDK refuses custom schedulers
            return factory;
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new UnsupportedOperationException(e.toString(), e);
        }
    }

    Thread.Builder.OfVirtual builder(Executor scheduler) {
        try {
            return (Thread.Builder.OfVirtual) constructor.invoke(scheduler);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }
}

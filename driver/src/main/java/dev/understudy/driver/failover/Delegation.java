package dev.understudy.driver.failover;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.SQLException;

/** Calling the vendor's object behind one of the driver's, and making those objects. */
final class Delegation {

    private Delegation() {}

    /**
     * Calls {@code m} on {@code target}: its result, or what it threw (an SQLException as such).
     */
    static Object invoke(Method m, Object target, Object[] args) throws SQLException {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof SQLException s) {
                throw s;
            }
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new SQLException(cause.getMessage(), cause);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot call " + m + " on the vendor's object", e);
        }
    }

    /** An object implementing {@code type} whose every call goes to {@code handler}. */
    static <T> T proxy(Class<T> type, InvocationHandler handler) {
        try {
            return type.cast(CONSTRUCTORS.get(type).invoke(handler));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cannot make a " + type.getName() + " proxy", t);
        }
    }

    /**
     * The constructor of each interface's proxy class, found once: a statement and a result set
     * are made per query, and {@code Proxy.newProxyInstance} looks the class up every time.
     */
    private static final ClassValue<MethodHandle> CONSTRUCTORS = new ClassValue<>() {
        @Override
        protected MethodHandle computeValue(Class<?> type) {
            Class<?> proxyClass = Proxy.newProxyInstance(Delegation.class.getClassLoader(), new Class<?>[] {type},
                    (self, m, args) -> null).getClass();
            try {
                return MethodHandles.publicLookup().findConstructor(proxyClass, MethodType.methodType(void.class, InvocationHandler.class))
                        .asType(MethodType.methodType(Object.class, InvocationHandler.class));
            } catch (NoSuchMethodException | IllegalAccessException e) {
                throw new IllegalStateException("no usable constructor in the proxy class of " + type.getName(), e);
            }
        }
    };

    /**
     * Answers the calls every driver object answers by itself ({@code equals}, {@code hashCode},
     * and {@code unwrap} / {@code isWrapperFor} to its own interface), or null when {@code m} is
     * not one of them ({@code toString} is each handler's own).
     */
    static Object own(Object self, Method m, Object[] args) {
        return switch (m.getName()) {
            case "equals" -> args[0] == self;
            case "hashCode" -> System.identityHashCode(self);
            case "unwrap" -> ((Class<?>) args[0]).isInstance(self) ? self : null;
            case "isWrapperFor" -> ((Class<?>) args[0]).isInstance(self) ? Boolean.TRUE : null;
            default -> null;
        };
    }
}

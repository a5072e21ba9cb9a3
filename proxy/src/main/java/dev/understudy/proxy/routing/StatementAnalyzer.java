package dev.understudy.proxy.routing;

import java.util.Optional;
import java.util.Set;

/**
 * The second pass of classification: reads one statement that the lexical pass could not settle
 * (a name before '(' that may or may not call a function, see docs/routing.md) with a real grammar,
 * and names what it calls and reads. An interface so that the classifier does not depend on the
 * parser it is given ({@link CalciteAnalyzer} in production).
 */
@FunctionalInterface
public interface StatementAnalyzer {

    /**
     * Reads one read-only statement (SELECT, VALUES, TABLE or WITH, without its terminating
     * semicolon).
     *
     * @return the functions it calls and the tables it names, or empty when it cannot read the
     *     statement: the statement then goes to the master
     */
    Optional<Extraction> analyze(String statement);

    /**
     * What a statement calls and reads.
     *
     * @param functions names of the called functions, unqualified, as PostgreSQL folds them
     *     (unquoted names lower-cased)
     * @param relations names of the tables and types the statement refers to, unqualified
     */
    record Extraction(Set<String> functions, Set<String> relations) {
        public Extraction {
            functions = Set.copyOf(functions);
            relations = Set.copyOf(relations);
        }
    }
}

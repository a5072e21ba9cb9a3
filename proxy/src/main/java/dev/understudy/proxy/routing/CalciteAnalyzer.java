package dev.understudy.proxy.routing;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.apache.calcite.avatica.util.Casing;
import org.apache.calcite.avatica.util.Quoting;
import org.apache.calcite.sql.SqlBasicTypeNameSpec;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlDataTypeSpec;
import org.apache.calcite.sql.SqlFunction;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlJoin;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.SqlUnresolvedFunction;
import org.apache.calcite.sql.parser.SqlParseException;
import org.apache.calcite.sql.parser.SqlParser;
import org.apache.calcite.sql.parser.babel.SqlBabelParserImpl;
import org.apache.calcite.sql.util.SqlBasicVisitor;
import org.apache.calcite.sql.validate.SqlConformanceEnum;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The second pass of classification, for the reads the lexical pass cannot settle: parses one
 * statement with Apache Calcite's Babel parser (its most lenient grammar) and lists the functions
 * it calls and the tables and types it names. Calcite does not know all of PostgreSQL
 * ({@link BabelText} bridges the common gaps); a statement it cannot parse, or whose FROM clause
 * holds something this class does not know, is reported unreadable, and the classifier then sends
 * it to the master. A parse costs tens of microseconds against about a microsecond for the
 * lexical pass, which is why only unsettled statements come here, once per text
 * ({@link ClassificationCache}). Stateless and thread-safe: each call builds its own parser.
 */
public final class CalciteAnalyzer implements StatementAnalyzer {

    private static final Logger LOG = LoggerFactory.getLogger(CalciteAnalyzer.class);

    private static final SqlParser.Config CONFIG = SqlParser.config()
            .withParserFactory(SqlBabelParserImpl.FACTORY)
            .withConformance(SqlConformanceEnum.BABEL)
            .withQuoting(Quoting.DOUBLE_QUOTE)
            .withUnquotedCasing(Casing.TO_LOWER) // names fold as PostgreSQL folds them
            .withQuotedCasing(Casing.UNCHANGED)
            .withCaseSensitive(true);

    @Override
    public Optional<Extraction> analyze(String statement) {
        String text = BabelText.of(statement);
        if (text == null) {
            return Optional.empty();
        }
        SqlNode query;
        try {
            query = SqlParser.create(text, CONFIG).parseQuery();
        } catch (SqlParseException | RuntimeException e) {
            LOG.debug("Calcite cannot parse an unsettled statement ({}): it goes to the master", e.getClass().getSimpleName());
            return Optional.empty();
        }
        if (!query.isA(SqlKind.QUERY) && query.getKind() != SqlKind.WITH) {
            return Optional.empty();
        }
        Names names = new Names();
        try {
            query.accept(names);
        } catch (UnknownFromItem e) {
            LOG.debug("Calcite read a FROM item of kind {}, unknown here: the statement goes to the master", e.kind);
            return Optional.empty();
        }
        return Optional.of(new Extraction(names.functions, names.relations));
    }

    /** Collects function names from every call in the tree, and table names from FROM clauses. */
    private static final class Names extends SqlBasicVisitor<Void> {
        final Set<String> functions = new LinkedHashSet<>();
        final Set<String> relations = new LinkedHashSet<>();

        @Override
        public Void visit(SqlCall call) {
            if (call instanceof SqlSelect select) {
                for (SqlNode operand : select.getOperandList()) {
                    if (operand != null && operand == select.getFrom()) {
                        from(operand);
                    } else if (operand != null) {
                        operand.accept(this);
                    }
                }
                return null;
            }
            if (call instanceof SqlJoin || call.getKind() == SqlKind.EXPLICIT_TABLE) {
                from(call); // TABLE t, also as a subquery: x IN (TABLE t)
                return null;
            }
            function(call.getOperator());
            return super.visit(call);
        }

        /** A composite type may be a table's row type: NULL::tmp. Built-in types are no tables. */
        @Override
        public Void visit(SqlDataTypeSpec type) {
            if (!(type.getTypeNameSpec() instanceof SqlBasicTypeNameSpec)) {
                relation(type.getTypeName().names);
            }
            return null;
        }

        private void function(SqlOperator operator) {
            if (operator instanceof SqlUnresolvedFunction f) {
                // a name as written: f(x), s.f(x), "F"(x); coalesce(a, b) and the like are syntax in PostgreSQL
                SqlIdentifier id = f.getSqlIdentifier();
                String name = id == null ? f.getName() : last(id.names);
                boolean plain = id != null && id.names.size() == 1 && !id.getComponentParserPosition(0).isQuoted();
                if (!(plain && CallSites.isSyntax(name))) {
                    functions.add(name);
                }
            } else if (operator instanceof SqlFunction f && f.getKind() != SqlKind.CAST) {
                // a form Calcite knows (SUBSTRING, FLOOR, PERCENTILE_CONT, ...): its name, for the catalog to judge
                String name = f.getName().toLowerCase(Locale.ROOT);
                if (!CallSites.isSyntax(name)) {
                    functions.add(name);
                }
            }
        }

        private void from(SqlNode item) {
            switch (item) {
                case SqlIdentifier table -> relation(table.names);
                case SqlJoin join -> {
                    from(join.getLeft());
                    from(join.getRight());
                    if (join.getCondition() != null) {
                        join.getCondition().accept(this);
                    }
                }
                case SqlCall call -> {
                    switch (call.getKind()) {
                        // t AS x(a, b), LATERAL (...), t TABLESAMPLE ..., TABLE t: the first operand is what is read
                        case AS, LATERAL, TABLESAMPLE, EXPLICIT_TABLE -> from(call.operand(0));
                        case COLLECTION_TABLE, UNNEST, SELECT, UNION, INTERSECT, EXCEPT, VALUES, WITH, ORDER_BY ->
                            call.accept(this); // f(x) in FROM, a subquery
                        default -> throw new UnknownFromItem(call.getKind());
                    }
                }
                default -> throw new UnknownFromItem(item.getKind());
            }
        }

        /** A table or type name; one qualified by a schema other than pg_temp cannot be a temporary table's. */
        private void relation(List<String> names) {
            if (names.size() == 1 || StatementClassifier.isTempSchema(names.get(names.size() - 2))) {
                relations.add(last(names));
            }
        }

        private static String last(List<String> names) {
            return names.get(names.size() - 1);
        }
    }

    /** A FROM item this class does not know how to read: better the master than a guess. */
    private static final class UnknownFromItem extends RuntimeException {
        final SqlKind kind;

        UnknownFromItem(SqlKind kind) {
            super(null, null, false, false);
            this.kind = kind;
        }
    }
}

"""`field__any_of=<subquery>` compiles to `field = ANY(ARRAY(<subquery>))`.

PostgreSQL runs the ARRAY(...) once (an InitPlan) and can then use the column's index for the
condition, also inside an OR. A plain `IN (subquery)` inside an OR becomes a hashed filter that
is checked row by row over the whole table, which is what the access layer must avoid at 1M rows.
"""
from django.db.models import Field, ForeignObject, Lookup


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        return self.rhs

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = compiler.compile(self.rhs)
        if not rhs.startswith("("):
            rhs = f"({rhs})"
        return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)


Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)

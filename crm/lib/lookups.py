"""The project's own lookups, registered on import (crm.apps imports this module).

- `field__like=<pattern>` compiles to `field LIKE <pattern>`, the pattern passed as it is (the caller
  escapes it). Django's `contains` would do the same for one fragment, but the search needs word-start
  patterns too ("% bj%"), and `icontains` (UPPER(..) LIKE UPPER(..)) could not use the trigram index.
- `field__any_of=<subquery>` compiles to `field = ANY(ARRAY(<subquery>))`. PostgreSQL runs the
  ARRAY(...) once (an InitPlan) and can then use the column's index for the condition, also inside an
  OR. A plain `IN (subquery)` inside an OR becomes a hashed filter checked row by row over the whole
  table, which the access layer and the search must avoid at 1M rows.
"""
from django.db.models import CharField, Field, ForeignObject, Lookup, TextField


class Like(Lookup):
    lookup_name = "like"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} LIKE {rhs}", [*lhs_params, *rhs_params]


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


TextField.register_lookup(Like)
CharField.register_lookup(Like)
Field.register_lookup(AnyOf)
ForeignObject.register_lookup(AnyOf)

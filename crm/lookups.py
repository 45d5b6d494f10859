"""`field__like=<pattern>` compiles to `field LIKE <pattern>`, the pattern passed as it is (the caller
escapes it). Django's `contains` would do the same for one fragment, but the search needs word-start
patterns too ("% bj%"), and `icontains` (UPPER(..) LIKE UPPER(..)) could not use the trigram index."""
from django.db.models import CharField, Lookup, TextField


class Like(Lookup):
    lookup_name = "like"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} LIKE {rhs}", [*lhs_params, *rhs_params]


TextField.register_lookup(Like)
CharField.register_lookup(Like)


class InArray(Lookup):
    """`InArray(F("pk"), subquery)`: `pk = ANY(ARRAY(subquery))`. PostgreSQL runs the subquery once
    and looks the ids up in the column's index, also as one branch of an OR of indexed conditions,
    where `pk IN (subquery)` would make it read every row."""

    lookup_name = "in_array"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = compiler.compile(self.rhs)
        return f"{lhs} = ANY(ARRAY({rhs}))", [*lhs_params, *rhs_params]

    def get_prep_lookup(self):
        return self.rhs

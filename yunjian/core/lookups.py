"""`field__any=values`: `field = ANY(%s)`, the values sent as one array parameter.

`field__in=values` writes one placeholder per value; psycopg parses the statement for its
placeholders on every execution, which for the thousands of numbers of a bulk workbook costs more
than the query itself. The array is one parameter whatever its length. Registered on every field
(`yunjian.core.apps`); the values are compared as the column's own type.
"""

from __future__ import annotations

from django.db.models import Field, ForeignObject, Lookup


class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    @property
    def column_field(self) -> Field:
        """The field whose type the column has (a foreign key's: its target's)."""
        field = self.lhs.output_field
        return field.target_field if field.is_relation else field

    def get_db_prep_lookup(self, value, connection):
        prep = self.column_field.get_db_prep_value
        return "%s", [[prep(v, connection=connection) for v in value]]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        db_type = self.column_field.cast_db_type(connection)
        return f"{lhs} = ANY({rhs}::{db_type}[])", (*lhs_params, *rhs_params)


def register() -> None:
    Field.register_lookup(AnyOf)
    ForeignObject.register_lookup(AnyOf)  # a relation keeps a lookup list of its own

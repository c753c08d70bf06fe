import django.contrib.postgres.search
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

# GIN indexes for the search (requests_app.search). Created here rather than in Meta.indexes because
# the embedded default runs on SQLite, which has neither GIN nor pg_trgm; there the search falls back
# to icontains and these steps do nothing.
INDEXES = [
    ("req_search_document_idx", "requests_app_feasibilityrequest USING gin (search_document)"),
    ("req_search_internal_idx", "requests_app_feasibilityrequest USING gin (search_internal)"),
    # Customers whose name is close to what was typed (similarity, the `%` operator).
    ("customer_name_trgm_idx", "requests_app_customer USING gin (name gin_trgm_ops)"),
]


def create_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")
    from requests_app import search

    search.index_all()


def drop_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("requests_app", "0010_list_sort_indexes"),
    ]

    operations = [
        TrigramExtension(),
        migrations.AddField(
            model_name="feasibilityrequest",
            name="search_document",
            field=django.contrib.postgres.search.SearchVectorField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="feasibilityrequest",
            name="search_internal",
            field=django.contrib.postgres.search.SearchVectorField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(create_indexes, drop_indexes, elidable=True),
    ]

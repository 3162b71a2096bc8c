"""ID numbers: a lost key is an error, not an empty string; keys rotate with `rotate_keys`."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from yunjian.core import crypto
from yunjian.core.models import AuditEntry, User

ID = "530302199001011234"


@pytest.fixture
def key_a(settings):
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    return settings.FIELD_ENCRYPTION_KEY


def test_changing_the_secret_key_does_not_lose_id_numbers(settings, designer, key_a):
    designer.id_number = ID
    designer.save()
    settings.SECRET_KEY = "another-" + settings.SECRET_KEY
    assert User.objects.get(pk=designer.pk).id_number == ID


def test_an_id_number_no_key_opens_is_an_error_not_an_empty_string(settings, designer, key_a):
    designer.id_number = ID
    designer.save()
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(crypto.DecryptionError, match="FIELD_ENCRYPTION_KEY"):
        _ = User.objects.get(pk=designer.pk).id_number


def test_rotate_keys_reencrypts_under_the_newest_key(settings, designer, contractor, key_a):
    designer.id_number = ID
    designer.save()
    contractor.id_number = "53030219900101123X"
    contractor.save()
    key_b = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = f"{key_b},{key_a}"
    # Readable under the list already, found by digest only after rotation.
    assert User.objects.get(pk=designer.pk).id_number == ID
    call_command("rotate_keys")
    settings.FIELD_ENCRYPTION_KEY = key_b
    for user, number in ((designer, ID), (contractor, "53030219900101123X")):
        fresh = User.objects.get(pk=user.pk)
        assert fresh.id_number == number
        assert fresh.id_number_digest == crypto.digest(number)
        assert User.objects.filter(id_number_digest=crypto.digest(number)).get() == fresh
    entry = AuditEntry.objects.get(object_type="field_encryption")
    assert entry.data == {"rotated": 2}
    call_command("rotate_keys")  # idempotent


def test_rotate_keys_stops_loudly_when_a_row_cannot_be_opened(settings, designer, key_a):
    designer.id_number = ID
    designer.save()
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(CommandError, match="无法解密"):
        call_command("rotate_keys")

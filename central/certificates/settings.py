"""Where the hub keeps its certificate keys, from ``IMUNO_HUB_*`` variables.

===================================  =============================================
``IMUNO_HUB_CSCA_KEY``               the country signing CA: its private key and
                                     certificate, PEM (``var/csca-key.pem``)
``IMUNO_HUB_SIGNER_KEY``             the hub's own document-signer key, PEM
                                     (``var/hub-signer-key.pem``)
``IMUNO_HUB_CSCA_AUTO_CREATE``       create the CSCA on first need (true); set
                                     false in production so only the
                                     ``init-csca`` ceremony makes one
===================================  =============================================

Relative paths are relative to the hub's working directory (its data folder,
beside ``var/central.sqlite``). Key files are written with mode 0600 and are
never stored in the database or in git. In production the CSCA key belongs in
a hardware security module, with only its certificate on the hub; this file
store is the embedded default (demo, tests, a single-host hub). Every worker
process reads the same files, so a hub spread over several hosts must have the
files provisioned (``imuno-hub cert init-csca`` on one, then copied) before
it serves.
"""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from central.settings import ENV_PREFIX


class CertificateSettings(BaseSettings):
    """Key file locations and the CSCA creation policy."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    csca_key: Path = Path("var/csca-key.pem")
    signer_key: Path = Path("var/hub-signer-key.pem")
    csca_auto_create: bool = True

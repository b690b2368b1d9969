"""The hub's side of vaccination certificates (EU DCC), over `domain.certificates`.

- `authority`: the country signing CA (CSCA) and the hub's own document
  signer, their key files and database rows;
- `csr_signer`: certifies a site's signer key at enrolment (`HubCsrSigner`);
- `lists`: the CSCA-signed trust list and revocation list the hub publishes;
- `issuing`: certificates the hub issues from the dose records it holds,
  re-issue after corrections, revocation;
- `doses`: which dose records are in effect after corrections;
- `signers`: revoking a document signer (a leaked site key);
- `commands`: the ``imuno-hub cert`` command group;
- `qr_input`, `saved_lists`: reading a certificate from text, an image or a
  PDF, and the lists a verifier saved (``imuno-cert``).

Key files: see `settings` (production keeps the CSCA key in an HSM).
"""

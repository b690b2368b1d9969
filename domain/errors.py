"""The root of every error a person may read.

A `DomainError` carries a stable `code` (``"jmbg.check_digit"``) and the values
that fill its message. `str(error)` is the English text; `domain.i18n.message`
renders the same error in Serbian Latin or Cyrillic. UIs and APIs show the
translated text and log the code, so a support call can quote either.

Subclasses set ``code`` and ``template`` as class attributes; templates use
``str.format`` fields named after the params.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from domain.i18n import Language


class DomainError(ValueError):
    """Bad input or a broken rule, explained for the person who can fix it."""

    code: ClassVar[str] = "error"
    template: ClassVar[str] = "Invalid input."

    def __init__(self, **params: Any) -> None:
        self.params: dict[str, Any] = params
        super().__init__(self.template.format(**params))

    def params_in(self, language: Language) -> dict[str, Any]:
        """The params to fill the message in `language` (`domain.i18n.message` uses it).

        The params as given; a subclass whose params hold texts that are
        themselves translatable (e.g. eligibility reasons) renders them here.
        """
        del language
        return self.params

    def __reduce__(self) -> tuple[Any, ...]:
        # Keeps errors picklable across process pools despite keyword-only init.
        return (_rebuild, (type(self), self.params))


def _rebuild(cls: type[DomainError], params: dict[str, Any]) -> DomainError:
    return cls(**params)

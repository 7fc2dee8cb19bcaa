"""REST API: ModelRestApi classes on the same scope as the screens."""


def register(appbuilder) -> None:
    from .clients import ClientRestApi
    from .finance import JournalRestApi
    from .ledger import ReceiptRestApi
    from .sales import LeadRestApi

    appbuilder.add_api(ClientRestApi)
    appbuilder.add_api(JournalRestApi)
    appbuilder.add_api(LeadRestApi)
    appbuilder.add_api(ReceiptRestApi)

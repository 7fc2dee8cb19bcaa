"""REST API: ModelRestApi classes on the same scope as the screens."""


def register(appbuilder) -> None:
    from .clients import ClientRestApi

    appbuilder.add_api(ClientRestApi)

"""Console pages of client accounts."""

urlpatterns: list = []

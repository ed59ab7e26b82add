"""Background tasks on Celery: the django-tasks backend that publishes to a broker
(RabbitMQ or Redis), and the Celery app that its workers run. Knows no app of the
project: a task is found by its import path, as django-tasks' own database worker does."""

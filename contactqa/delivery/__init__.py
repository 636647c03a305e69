"""Feedback delivery: per-agent emails built with yagmail, written to an outbox, sent once."""

from contactqa.delivery.feedback import DeliverySettings, FailedDelivery, FeedbackSummary, send_feedback

__all__ = ["DeliverySettings", "FailedDelivery", "FeedbackSummary", "send_feedback"]

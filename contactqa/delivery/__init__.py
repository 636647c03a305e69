"""Feedback delivery: per-agent emails per closed period, built with yagmail, written to an outbox,
sent once, and revised (numbered, saying what changed) when the figures behind them change."""

from contactqa.delivery.feedback import (
    DeliverySettings, FailedDelivery, FeedbackSummary, HeldBack, plan_periods, send_feedback,
)

__all__ = ["DeliverySettings", "FailedDelivery", "FeedbackSummary", "HeldBack", "plan_periods", "send_feedback"]

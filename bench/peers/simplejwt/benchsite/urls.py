"""The same paths as Porteiro's user-login dialect, so one wrk script drives both servers.
The organization id in the login path is accepted and ignored."""
from django.urls import path
from rest_framework_simplejwt.views import (
    TokenObtainPairView,
    TokenRefreshView,
    TokenVerifyView,
)

from .views import Healthz, Me

urlpatterns = [
    path("healthz", Healthz.as_view()),
    path("api/v1/me", Me.as_view()),
    path("api/v1/auth/token/<int:org>/", TokenObtainPairView.as_view()),
    path("api/v1/auth/token-refresh/", TokenRefreshView.as_view()),
    path("api/v1/auth/token-verify/", TokenVerifyView.as_view()),
]

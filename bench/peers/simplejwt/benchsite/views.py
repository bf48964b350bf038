from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication


class Me(APIView):
    """Who the bearer is: the counterpart of Porteiro's GET /api/v1/me."""

    authentication_classes = [JWTAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        user = request.user
        return Response({"type": "user", "user_id": user.id, "username": user.username})


class Healthz(APIView):
    """The framework's floor: no authentication, no database."""

    authentication_classes = []
    permission_classes = []

    def get(self, request):
        return Response({"status": "ok"})

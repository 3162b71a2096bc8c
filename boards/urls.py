from django.urls import path

from boards import views

app_name = "boards"

urlpatterns = [
    path("", views.board, name="board"),
    path("records/", views.records, name="records"),
    path("trend/", views.trend, name="trend"),
    path("design/", views.design, name="design"),
]

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from .models import Item


def one_query(request: HttpRequest, code: str) -> HttpResponse:
    item = get_object_or_404(Item, code=code)
    return render(request, "baseline/item.html", {"item": item})


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<!doctype html><title>Hello</title><p>Hello.</p>")

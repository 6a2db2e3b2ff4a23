from django import forms
from django.contrib.auth.forms import AuthenticationForm


class SignupForm(forms.Form):
    username = forms.CharField(
        max_length=150, label="User name", widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    email = forms.EmailField(label="Email", widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


class LoginForm(AuthenticationForm):
    """Django's login form; exists so the page can set autocomplete hints."""

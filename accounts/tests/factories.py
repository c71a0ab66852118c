import factory
from allauth.account.models import EmailAddress

from accounts.jurisdictions import Jurisdiction
from accounts.models import Licence, Profession, User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"clinician{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified(self, create: bool, extracted, **kwargs) -> None:
        # Learners in most tests have confirmed their address, as allauth requires to sign in.
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class LicenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Licence

    user = factory.SubFactory(UserFactory)
    profession = Profession.PROFESSIONAL_COUNSELOR
    jurisdiction = Jurisdiction.FL
    number = factory.Sequence(lambda n: f"MH{10000 + n}")
